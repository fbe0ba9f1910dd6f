"""Glue 4 Spark job: load ONE dump file (an S3 key) into the warehouse.

Arguments and I/O only. The transform is glue/transform.sql (run unchanged, also on DuckDB in the project's tests);
the warehouse statements come generated from packages/transactions (glue/warehouse_sql.json). Steps:
  1. crawler step: the header must be the expected columns, else the file is refused (rejected/<key>.refused.json);
  2. read the CSV (strict quoting, all strings, 12 columns so a long row is seen) in file order with its line number;
  3. run the transform; bad rows go to rejected/<key>.bad-rows.jsonl (file, line, field, reason, raw);
  4. stage the file's lines in Redshift (COPY through the Glue connection, after deleting what a failed run left)
     and merge exactly that file in one transaction (postactions): a dump is never half loaded, a re-run changes
     nothing;
  5. move the dump from incoming/ to processed/.
"""

import json
import sys

RAW_FIELDS = ["c%02d" % (index + 1) for index in range(12)]
CORRUPT_COLUMN = "_corrupt_record"
# Never occurs in a dump: empty fields read as "" and only missing fields are NULL.
NULL_SENTINEL = "\u0001"
JOB_ARGUMENTS = [
    "JOB_NAME",
    "dumps_bucket",
    "dump_key",
    "store_id",
    "glue_connection",
    "redshift_database",
    "TempDir",
    "transform_sql_path",
    "warehouse_sql_path",
]
SPARK_SETTINGS = {
    # The rules that keep Spark agreeing with DuckDB on glue/transform.sql (see DESIGN.md).
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
}


class DumpRefused(Exception):
    """The crawler step refused the file (its header is not the expected one)."""


def sql_string(text):
    """An SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def fill_statements(statements, source_file, lines=0, rejected=0):
    """The generated warehouse statements for one file: its name as an SQL string, counts as integers."""
    filled = []
    for statement in statements:
        statement = statement.replace("'{source_file}'", sql_string(source_file))
        statement = statement.replace("{lines}", str(int(lines))).replace("{rejected}", str(int(rejected)))
        filled.append(statement)
    return filled


def check_header(first_line, expected):
    """The crawler step: the header must name the expected columns, in order."""
    line = (first_line or "").lstrip("\ufeff").rstrip("\r\n")
    found = [name.strip().strip('"') for name in line.split(",")] if line else []
    if found == list(expected):
        return
    missing = [name for name in expected if name not in found]
    extra = [name for name in found if name not in expected]
    details = [] if found else ["no header"]
    if found and missing:
        details.append("missing " + ", ".join(missing))
    if found and extra:
        details.append("unexpected " + ", ".join(json.dumps(name) for name in extra))
    if found and not missing and not extra:
        details.append("columns out of order")
    raise DumpRefused(
        "header %s does not match the expected columns %s (%s)" % (json.dumps(line[:200]), ",".join(expected), "; ".join(details))
    )


def rejected_key(dump_key, suffix):
    """Where a dump's bad rows or refusal go: rejected/<key without incoming/>.<suffix>."""
    name = dump_key[len("incoming/"):] if dump_key.startswith("incoming/") else dump_key
    return "rejected/%s.%s" % (name, suffix)


def processed_key(dump_key):
    name = dump_key[len("incoming/"):] if dump_key.startswith("incoming/") else dump_key
    return "processed/" + name


def is_utf8(data):
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def read_raw_rows(spark, path, source_file, encoding):
    """Raw rows of one dump in file order: source_line is the record's position (the header is line 1)."""
    from pyspark.sql import types as T
    from pyspark.sql import functions as F

    schema = T.StructType(
        [T.StructField(name, T.StringType(), True) for name in RAW_FIELDS]
        + [T.StructField(CORRUPT_COLUMN, T.StringType(), True)]
    )
    frame = (
        spark.read.option("header", "true")
        .option("sep", ",")
        .option("quote", '"')
        .option("escape", '"')
        .option("encoding", encoding)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_COLUMN)
        .option("nullValue", NULL_SENTINEL)
        .option("emptyValue", "")
        .option("multiLine", "false")
        .schema(schema)
        .csv(path)
    )
    # zipWithIndex numbers rows in partition order, which is file order (monotonically_increasing_id is not dense).
    indexed = frame.rdd.zipWithIndex().map(lambda pair: tuple(pair[0]) + (pair[1] + 2,))
    numbered = spark.createDataFrame(indexed, T.StructType(schema.fields + [T.StructField("source_line", T.LongType(), False)]))
    return numbered.select(
        F.lit(source_file).alias("source_file"),
        F.col("source_line"),
        *[F.when(F.col(CORRUPT_COLUMN).isNull(), F.col(name)).alias(name) for name in RAW_FIELDS],
        F.when(F.col(CORRUPT_COLUMN).isNotNull(), F.lit("unreadable CSV: malformed record")).alias("parse_error"),
        F.col(CORRUPT_COLUMN).alias("parse_raw"),
    )


def transform(spark, raw_rows, store_id, transform_sql):
    """Runs glue/transform.sql over the raw rows: every row once, accepted or with its reject reason."""
    raw_rows.createOrReplaceTempView("raw_rows")
    spark.createDataFrame([(store_id,)], "store_id string").createOrReplaceTempView("load_params")
    return spark.sql(transform_sql)


def bad_row_records(rejected_rows):
    """Bad rows in the shape of packages/transactions' BadRow, one JSON object a line."""
    return "".join(
        json.dumps(
            {"file": row["source_file"], "line": row["source_line"], "field": row["reject_field"], "reason": row["reject_reason"], "raw": row["raw"]},
            ensure_ascii=False,
        )
        + "\n"
        for row in rejected_rows
    )


def load_dump(args, spark, glue_context, s3, read_text):
    """One dump file, end to end. Dependencies are injected: the tests pass small fakes."""
    for name, value in SPARK_SETTINGS.items():
        spark.conf.set(name, value)
    bucket, key = args["dumps_bucket"], args["dump_key"]
    warehouse_sql = json.loads(read_text(args["warehouse_sql_path"]))
    transform_sql = read_text(args["transform_sql_path"])

    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if data[:2] == b"\x1f\x8b":
        import gzip

        data = gzip.decompress(data)
    first_line = data.split(b"\n", 1)[0].decode("latin-1")
    try:
        check_header(first_line, warehouse_sql["header"])
    except DumpRefused as refused:
        body = json.dumps({"file": key, "reason": str(refused)})
        s3.put_object(Bucket=bucket, Key=rejected_key(key, "refused.json"), Body=body.encode("utf-8"), ServerSideEncryption="AES256")
        raise

    encoding = "UTF-8" if is_utf8(data) else "ISO-8859-1"
    raw_rows = read_raw_rows(spark, "s3://%s/%s" % (bucket, key), key, encoding)
    result = transform(spark, raw_rows, args["store_id"], transform_sql).cache()
    accepted = result.filter("reject_field IS NULL").select(*warehouse_sql["staging_columns"])
    rejected = result.filter("reject_field IS NOT NULL").orderBy("source_line").collect()
    lines = accepted.count()

    if rejected:
        s3.put_object(
            Bucket=bucket, Key=rejected_key(key, "bad-rows.jsonl"), Body=bad_row_records(rejected).encode("utf-8"), ServerSideEncryption="AES256"
        )

    write_lines(glue_context, accepted, args, warehouse_sql, key, lines, len(rejected))

    s3.copy_object(Bucket=bucket, Key=processed_key(key), CopySource={"Bucket": bucket, "Key": key}, ServerSideEncryption="AES256")
    s3.delete_object(Bucket=bucket, Key=key)
    return {"file": key, "rows_read": lines + len(rejected), "lines_loaded": lines, "rows_rejected": len(rejected)}


def write_lines(glue_context, accepted, args, warehouse_sql, key, lines, rejected):
    """COPY the file's lines into batch staging, then merge that file in one transaction."""
    from awsglue.dynamicframe import DynamicFrame

    pre = fill_statements(warehouse_sql["preactions"], key)
    post = ["BEGIN;"] + fill_statements(warehouse_sql["postactions"], key, lines, rejected) + ["END;"]
    glue_context.write_dynamic_frame.from_jdbc_conf(
        frame=DynamicFrame.fromDF(accepted, glue_context, "dump_lines"),
        catalog_connection=args["glue_connection"],
        connection_options={
            "database": args["redshift_database"],
            "dbtable": warehouse_sql["staging_table"],
            "preactions": " ".join(pre),
            "postactions": " ".join(post),
        },
        redshift_tmp_dir=args["TempDir"],
    )


def main(argv):  # pragma: no cover - runs only inside Glue
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(argv, JOB_ARGUMENTS)
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    s3 = boto3.client("s3")

    def read_text(uri):
        bucket, _, key = uri[len("s3://"):].partition("/")
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")

    print(json.dumps(load_dump(args, glue_context.spark_session, glue_context, s3, read_text)))
    job.commit()


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv)
