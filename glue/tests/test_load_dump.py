"""The Glue job's own logic (arguments, orchestration, staging and merge statements), with small fakes of Glue."""

import gzip
import json
import os
import sys
import types
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import load_dump  # noqa: E402

GLUE_DIR = os.path.join(os.path.dirname(__file__), "..")
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def read_text(path):
    with open(os.path.join(GLUE_DIR, os.path.basename(path)), encoding="utf-8") as handle:
        return handle.read()


class FakeS3:
    def __init__(self, objects):
        self.objects = dict(objects)
        self.puts = []

    def get_object(self, Bucket, Key):
        return {"Body": types.SimpleNamespace(read=lambda: self.objects[(Bucket, Key)])}

    def put_object(self, Bucket, Key, Body, ServerSideEncryption):
        assert ServerSideEncryption == "AES256"
        self.objects[(Bucket, Key)] = Body
        self.puts.append(Key)

    def copy_object(self, Bucket, Key, CopySource, ServerSideEncryption):
        self.objects[(Bucket, Key)] = self.objects[(CopySource["Bucket"], CopySource["Key"])]

    def delete_object(self, Bucket, Key):
        del self.objects[(Bucket, Key)]


class FakeFrame:
    """Rows as dicts; enough of a DataFrame for the job's orchestration."""

    def __init__(self, rows):
        self.rows = rows

    def cache(self):
        return self

    def filter(self, condition):
        wanted = condition == "reject_field IS NULL"
        return FakeFrame([row for row in self.rows if (row["reject_field"] is None) == wanted])

    def select(self, *columns):
        return FakeFrame([{column: row[column] for column in columns} for row in self.rows])

    def orderBy(self, column):
        return FakeFrame(sorted(self.rows, key=lambda row: row[column]))

    def collect(self):
        return self.rows

    def count(self):
        return len(self.rows)


class FakeGlueContext:
    def __init__(self):
        self.writes = []
        self.write_dynamic_frame = types.SimpleNamespace(from_jdbc_conf=lambda **kwargs: self.writes.append(kwargs))


class FakeSpark:
    def __init__(self):
        self.settings = {}
        self.conf = types.SimpleNamespace(set=self.settings.__setitem__)


def line(source_line, **values):
    row = {column: None for column in ["invoice_no", "invoice_type", "invoice_date", "customer_id", "country", "store_id", "stock_code",
                                       "description", "quantity", "unit_price", "line_total", "source_file", "source_line", "line_in_file",
                                       "reject_field", "reject_reason", "raw"]}
    row.update(source_file="incoming/o'brien.csv", source_line=source_line, **values)
    return row


ARGS = {
    "JOB_NAME": "load-dump",
    "dumps_bucket": "dumps",
    "dump_key": "incoming/o'brien.csv",
    "store_id": "online",
    "glue_connection": "warehouse",
    "redshift_database": "dev",
    "TempDir": "s3://artefacts/temp/",
    "transform_sql_path": "s3://artefacts/glue/transform.sql",
    "warehouse_sql_path": "s3://artefacts/glue/warehouse_sql.json",
}


class FakeDynamicFrame:
    @staticmethod
    def fromDF(frame, context, name):
        return frame


class StatementsTest(unittest.TestCase):
    def test_sql_strings_double_their_quotes(self):
        self.assertEqual(load_dump.sql_string("incoming/o'brien.csv"), "'incoming/o''brien.csv'")

    def test_generated_statements_are_filled_for_one_file(self):
        sql = json.loads(read_text("warehouse_sql.json"))
        post = load_dump.fill_statements(sql["postactions"], "incoming/o'brien.csv", 12, 3)
        text = "\n".join(post)
        self.assertIn("'incoming/o''brien.csv'", text)
        self.assertNotIn("{source_file}", text)
        self.assertIn("VALUES ('incoming/o''brien.csv', 12, 3, GETDATE())", text)
        self.assertTrue(any(statement.startswith("MERGE INTO invoice_lines") for statement in post))
        self.assertEqual(load_dump.fill_statements(sql["preactions"], "incoming/a.csv"),
                         ["DELETE FROM invoice_lines_batch_staging WHERE source_file = 'incoming/a.csv';"])

    def test_keys_of_rejected_and_processed_files(self):
        self.assertEqual(load_dump.rejected_key("incoming/2011/12-09.csv", "bad-rows.jsonl"), "rejected/2011/12-09.csv.bad-rows.jsonl")
        self.assertEqual(load_dump.processed_key("incoming/12-09.csv.gz"), "processed/12-09.csv.gz")

    def test_every_argument_the_deployed_job_passes_is_declared(self):
        with open(os.path.join(GLUE_DIR, "..", "services", "batch-loader", "serverless.yml"), encoding="utf-8") as handle:
            definition = handle.read()
        for name in load_dump.JOB_ARGUMENTS:
            if name in ("JOB_NAME", "dump_key"):
                continue  # set by Glue and by the trigger for each run
            self.assertIn("'--%s'" % name, definition)


class HeaderTest(unittest.TestCase):
    expected = HEADER.split(",")

    def test_accepts_the_header_with_bom_and_crlf(self):
        load_dump.check_header("\ufeff" + HEADER + "\r\n", self.expected)

    def test_refuses_a_drifted_header_with_what_differs(self):
        with self.assertRaisesRegex(load_dump.DumpRefused, "missing CustomerID; unexpected \"Customer ID\""):
            load_dump.check_header(HEADER.replace("CustomerID", "Customer ID"), self.expected)
        with self.assertRaisesRegex(load_dump.DumpRefused, "columns out of order"):
            load_dump.check_header("StockCode,InvoiceNo,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country", self.expected)
        with self.assertRaisesRegex(load_dump.DumpRefused, "no header"):
            load_dump.check_header("", self.expected)


class LoadDumpTest(unittest.TestCase):
    def run_job(self, content, transformed):
        s3 = FakeS3({("dumps", ARGS["dump_key"]): content})
        spark, glue = FakeSpark(), FakeGlueContext()
        calls = {}

        def fake_read(spark_, path, source_file, encoding):
            calls["read"] = (path, source_file, encoding)
            return "raw"

        def fake_transform(spark_, raw, store_id, sql):
            calls["transform"] = (raw, store_id, sql)
            return FakeFrame(transformed)

        modules = {"awsglue": types.ModuleType("awsglue"), "awsglue.dynamicframe": types.SimpleNamespace(DynamicFrame=FakeDynamicFrame)}
        with mock.patch.object(load_dump, "read_raw_rows", fake_read), mock.patch.object(load_dump, "transform", fake_transform), \
                mock.patch.dict(sys.modules, modules):
            report = load_dump.load_dump(ARGS, spark, glue, s3, read_text)
        return report, s3, spark, glue, calls

    def test_loads_one_file_stages_and_merges_it_and_reports_bad_rows(self):
        rows = [
            line(2, invoice_no="536365", line_in_file=1, reject_field=None),
            line(3, reject_field="Quantity", reject_reason='not a whole number: "six"', raw="536365,X,Y,six,..."),
            line(4, invoice_no="536365", line_in_file=2, reject_field=None),
        ]
        report, s3, spark, glue, calls = self.run_job((HEADER + "\n1,2\n").encode("utf-8"), rows)
        self.assertEqual(report, {"file": "incoming/o'brien.csv", "rows_read": 3, "lines_loaded": 2, "rows_rejected": 1})
        self.assertEqual(spark.settings["spark.sql.legacy.timeParserPolicy"], "CORRECTED")
        self.assertEqual(spark.settings["spark.sql.ansi.enabled"], "false")
        self.assertEqual(calls["read"], ("s3://dumps/incoming/o'brien.csv", "incoming/o'brien.csv", "UTF-8"))
        self.assertEqual(calls["transform"][1], "online")
        self.assertIn("FROM raw_rows r", calls["transform"][2])
        [write] = glue.writes
        options = write["connection_options"]
        self.assertEqual(options["dbtable"], "invoice_lines_batch_staging")
        self.assertIn("DELETE FROM invoice_lines_batch_staging WHERE source_file = 'incoming/o''brien.csv'", options["preactions"])
        self.assertTrue(options["postactions"].startswith("BEGIN; LOCK batch_invoice_segments;"))
        self.assertTrue(options["postactions"].endswith("END;"))
        self.assertEqual(write["frame"].count(), 2)
        self.assertEqual(write["redshift_tmp_dir"], "s3://artefacts/temp/")
        bad = [json.loads(text) for text in s3.objects[("dumps", "rejected/o'brien.csv.bad-rows.jsonl")].decode("utf-8").splitlines()]
        self.assertEqual(bad, [{"file": "incoming/o'brien.csv", "line": 3, "field": "Quantity", "reason": 'not a whole number: "six"', "raw": "536365,X,Y,six,..."}])
        self.assertIn(("dumps", "processed/o'brien.csv"), s3.objects)
        self.assertNotIn(("dumps", "incoming/o'brien.csv"), s3.objects)

    def test_reads_a_latin1_gzip_dump_as_latin1(self):
        content = gzip.compress((HEADER + "\r\n581217,gift_0001_10,Voucher \xa310.00,1,12-08-11 09:20,8.33,,United Kingdom\r\n").encode("latin-1"))
        _, _, _, _, calls = self.run_job(content, [line(2, invoice_no="581217", line_in_file=1, reject_field=None)])
        self.assertEqual(calls["read"][2], "ISO-8859-1")

    def test_refuses_a_drifted_file_before_touching_the_warehouse(self):
        s3 = FakeS3({("dumps", ARGS["dump_key"]): b"Invoice,Stock\n1,2\n"})
        glue = FakeGlueContext()
        with self.assertRaises(load_dump.DumpRefused):
            load_dump.load_dump(ARGS, FakeSpark(), glue, s3, read_text)
        self.assertEqual(glue.writes, [])
        refusal = json.loads(s3.objects[("dumps", "rejected/o'brien.csv.refused.json")])
        self.assertIn("missing InvoiceNo", refusal["reason"])
        self.assertIn(("dumps", "incoming/o'brien.csv"), s3.objects)


if __name__ == "__main__":
    unittest.main()
