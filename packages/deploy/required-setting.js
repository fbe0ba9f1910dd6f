// @ts-check
/**
 * A stage setting only the deployer knows (a VPC, subnets), for a service's config/settings.js: read from the
 * deploy's environment when serverless resolves it, with no default, so a missing one fails packaging, naming it.
 * @param {string} name @param {string} help
 */
const requiredSetting = (name, help) => async () => {
  const value = process.env[name];
  if (!value) throw new Error(`missing setting ${name}: ${help}`);
  return value;
};

module.exports = { requiredSetting };
