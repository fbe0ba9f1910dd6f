'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- Serverless v3 loads a local plugin with require(): CommonJS */
/**
 * Deploys the Glue job's artefacts with the service: after `sls deploy`, the files of glue/ the job runs
 * (load_dump.py, transform.sql, warehouse_sql.json) are uploaded to the artefacts bucket under glue/, where the
 * AWS::Glue::Job's ScriptLocation and arguments point. `sls package` only checks that they exist.
 */
const { readFileSync, existsSync } = require('node:fs');
const { resolve } = require('node:path');

const GLUE_DIR = resolve(__dirname, '../../glue');
const FILES = ['load_dump.py', 'transform.sql', 'warehouse_sql.json'];

class GlueArtefacts {
  constructor(serverless) {
    this.serverless = serverless;
    this.provider = serverless.getProvider('aws');
    this.hooks = {
      'before:package:finalize': () => this.check(),
      'after:deploy:deploy': () => this.upload(),
    };
  }

  check() {
    const missing = FILES.filter((file) => !existsSync(resolve(GLUE_DIR, file)));
    if (missing.length) throw new this.serverless.classes.Error(`Glue artefacts missing in glue/: ${missing.join(', ')}`);
  }

  async upload() {
    this.check();
    const bucket = this.serverless.service.custom.names.artefactsBucket;
    for (const file of FILES) {
      await this.provider.request('S3', 'putObject', {
        Bucket: bucket,
        Key: `glue/${file}`,
        Body: readFileSync(resolve(GLUE_DIR, file)),
        ServerSideEncryption: 'AES256',
      });
      this.serverless.cli.log(`Glue artefact uploaded: s3://${bucket}/glue/${file}`);
    }
  }
}

module.exports = GlueArtefacts;
