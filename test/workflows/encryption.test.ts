// Payload encryption end to end on a real Temporal server: with PAYLOAD_KEY set, every payload in
// a market loop's history (its input, each activity's arguments and result, its result) is
// ciphertext to the server; the worker and a client holding the key work as usual, and the codec
// server decodes history payloads for the Temporal UI.
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startCodecServer } from '../../ops/codec-server.ts';
import { marketLoopWorkflowId } from '../../core/ids.ts';
import {
  dataConverterOptions,
  ENCRYPTED_ENCODING,
  payloadCodecFrom,
} from '../../core/payload-codec.ts';
import { marketLoop } from '../../workflows/index.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { startLoopWorkers, testEnvironment } from '../helpers/temporal.ts';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/**
 * Every payload in a history (as JSON): the items of each `payloads` list, except the patch
 * markers Temporal's core writes itself (they hold only patch names, like `deploy-plan`).
 */
function payloadsOf(node: unknown, out: JsonPayload[] = []): JsonPayload[] {
  if (Array.isArray(node)) for (const n of node) payloadsOf(n, out);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (
        k === 'markerRecordedEventAttributes' &&
        (v as { markerName?: string }).markerName === 'core_patch'
      )
        continue;
      if (k === 'payloads' && Array.isArray(v)) out.push(...(v as JsonPayload[]));
      else payloadsOf(v, out);
    }
  return out;
}

describe('encrypted payloads', () => {
  let env: TestWorkflowEnvironment;
  let stack: TestStack;
  const codec = payloadCodecFrom({
    PAYLOAD_KEY: randomBytes(32).toString('base64'),
    PAYLOAD_KEY_ID: 'test',
  })!;
  let workers: Awaited<ReturnType<typeof startLoopWorkers>>;

  before(async () => {
    env = await testEnvironment();
    stack = await startTestStack({ date: '2026-03-01' });
    workers = await startLoopWorkers(env, stack.deps, 'encrypted', dataConverterOptions(codec));
  });
  after(async () => {
    await workers?.stop();
    await stack?.close();
    await env?.teardown();
  });

  it('keeps every payload of a market loop encrypted on the server, readable with the key', async () => {
    const client = new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      ...dataConverterOptions(codec),
    });
    const workflowId = marketLoopWorkflowId('SE', '2026-03-01');
    const result = await client.workflow.execute(marketLoop, {
      workflowId,
      taskQueue: workers.taskQueue,
      args: [{ market: 'SE', date: '2026-03-01', renderTaskQueue: workers.renderTaskQueue }],
    });
    assert.equal(result.status, 'completed');
    assert.equal(result.deploy?.created, 6);

    // What the server holds, fetched without the key.
    const history = JSON.parse(
      historyToJSON(await env.client.workflow.getHandle(workflowId).fetchHistory()),
    ) as unknown;
    const payloads = payloadsOf(history);
    assert.ok(payloads.length > 20, `${payloads.length} payloads`);
    for (const p of payloads)
      assert.equal(
        Buffer.from(p.metadata?.encoding ?? '', 'base64').toString(),
        ENCRYPTED_ENCODING,
      );
    const raw = JSON.stringify(history);
    assert.ok(!raw.includes(Buffer.from('"market":"SE"').toString('base64')));

    // The Temporal UI decodes them through the codec server.
    const server = await startCodecServer(codec, { origins: ['http://localhost:8233'] });
    try {
      const res = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ payloads: [payloads[0]] }),
      });
      const body = (await res.json()) as { payloads: JsonPayload[] };
      const input = JSON.parse(Buffer.from(body.payloads[0]!.data!, 'base64').toString()) as {
        market: string;
      };
      assert.equal(input.market, 'SE', 'the first payload is the workflow input');
    } finally {
      await server.close();
    }
  });
});
