import { independentServices, summariseNotEmulated } from './provision';
import { readCompose } from './service-definitions';

describe('independentServices', () => {
  it('are the services of serverless-compose.yml that take no output of another: their prints start with the stack', async () => {
    expect(independentServices(await readCompose()).map((service) => service.key)).toEqual(['monitoring', 'warehouse']);
  });
});

describe('summariseNotEmulated', () => {
  it('says each kind of missing resource once, with how many there are, most first', () => {
    const role = { type: 'AWS::IAM::Role', reason: 'no IAM locally' };
    const alarm = { type: 'AWS::CloudWatch::Alarm', reason: 'no CloudWatch locally' };
    expect(
      summariseNotEmulated([
        { service: 'ingest', logicalId: 'AlarmA', ...alarm },
        { service: 'ingest', logicalId: 'RoleA', ...role },
        { service: 'stream-processor', logicalId: 'RoleB', ...role },
        { service: 'stream-processor', logicalId: 'RoleC', ...role },
        { service: 'warehouse', logicalId: 'Policy', type: 'AWS::S3::BucketPolicy', reason: 'not emulated locally' },
      ]),
    ).toEqual(['3 × AWS::IAM::Role: no IAM locally', '1 × AWS::CloudWatch::Alarm: no CloudWatch locally', '1 × AWS::S3::BucketPolicy: not emulated locally']);
  });

  it('keeps one type with two reasons apart', () => {
    expect(
      summariseNotEmulated([
        { service: 'a', logicalId: 'X', type: 'AWS::Glue::Connection', reason: 'no JDBC' },
        { service: 'b', logicalId: 'Y', type: 'AWS::Glue::Connection', reason: 'other' },
      ]),
    ).toHaveLength(2);
  });
});
