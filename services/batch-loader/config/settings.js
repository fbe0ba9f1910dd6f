// @ts-check
/**
 * The Glue connection's network, which only the deployer knows: from the environment of the deploy, no defaults (a
 * missing one fails packaging, naming it).
 */

const { requiredSetting: required } = require('../../../packages/deploy/required-setting');

module.exports = {
  glueSubnetId: required('GLUE_SUBNET_ID', 'a private subnet from which Glue reaches the warehouse (subnet-...)'),
  glueSecurityGroupId: required('GLUE_SECURITY_GROUP_ID', 'a security group of that subnet that allows itself all TCP (Glue needs it) and reaches the warehouse on 5439 (sg-...)'),
  glueAvailabilityZone: required('GLUE_AVAILABILITY_ZONE', "that subnet's availability zone (e.g. eu-west-2a)"),
};
