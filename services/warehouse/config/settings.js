// @ts-check
/**
 * Settings of a stage that only the deployer knows (the VPC the private warehouse lives in). They come from the
 * environment of the deploy and have no defaults: a missing one fails packaging, naming it.
 */

const { requiredSetting: required } = require('../../../packages/deploy/required-setting');

module.exports = {
  vpcId: required('WAREHOUSE_VPC_ID', 'the VPC the private Redshift Serverless workgroup is placed in (vpc-...)'),
  subnetIds: required('WAREHOUSE_SUBNET_IDS', 'comma-separated private subnets of that VPC in three availability zones (subnet-a,subnet-b,subnet-c)'),
};
