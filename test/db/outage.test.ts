// Which errors mean the database is out of reach (waited for) and which are a query it refused
// (never better on retry).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseUnavailable } from '../../db/outage.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('databaseUnavailable', () => {
  it('is true for a server that is down, restarting or cut the connection', () => {
    assert.ok(databaseUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')));
    assert.ok(
      databaseUnavailable(withCode('terminating connection due to administrator command', '57P01')),
    );
    assert.ok(databaseUnavailable(withCode('the database system is starting up', '57P03')));
    assert.ok(databaseUnavailable(withCode('connection failure', '08006')));
    assert.ok(databaseUnavailable(new Error('Connection terminated unexpectedly')));
    // Every address refused (localhost resolving to ::1 and 127.0.0.1).
    assert.ok(
      databaseUnavailable(
        new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''),
      ),
    );
    // Wrapped by a caller.
    assert.ok(
      databaseUnavailable(
        new Error('could not record the stage', { cause: withCode('gone', 'ECONNRESET') }),
      ),
    );
  });

  it('is false for a query the database refused, and for anything else', () => {
    assert.equal(databaseUnavailable(withCode('duplicate key value', '23505')), false);
    assert.equal(databaseUnavailable(withCode('relation "x" does not exist', '42P01')), false);
    assert.equal(databaseUnavailable(new Error('meta transient error: 500')), false);
    assert.equal(databaseUnavailable('ECONNREFUSED'), false);
  });
});
