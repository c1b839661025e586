// `adloop deploy approve --market SE --date YYYY-MM-DD --by NAME [--reject] [--note TEXT]`:
// answers a market whose deploy waits for approval (DEPLOY_APPROVAL_MARKETS). Approving lets it
// write today's plan; rejecting (or no answer before DEPLOY_APPROVAL_TIMEOUT) keeps yesterday's
// ads running. The same signals can be sent from the Temporal UI or the CLI:
//   temporal workflow signal --workflow-id market/SE/<date> --name approveDeploy --input '{"by":"me"}'
import { parseIsoDate, todayUtc } from '../../core/dates.ts';
import { marketLoopWorkflowId } from '../../core/ids.ts';
import { approveDeploy, getMarketStatus, rejectDeploy } from '../../workflows/messages.ts';
import { connectCli } from '../temporal-client.ts';

export interface DeployApproveOptions {
  market: string;
  by: string;
  date?: string;
  reject?: boolean;
  note?: string;
}

export async function deployApproveCommand(opts: DeployApproveOptions): Promise<void> {
  const market = opts.market.toUpperCase();
  const date = opts.date ? parseIsoDate(opts.date, '--date') : todayUtc();
  const { client, close } = await connectCli();
  try {
    const handle = client.workflow.getHandle(marketLoopWorkflowId(market, date));
    const status = await handle.query(getMarketStatus).catch((err: Error) => {
      throw new Error(`no running loop for ${market} on ${date} (${err.message})`);
    });
    if (status.stage !== 'awaiting-approval')
      throw new Error(`${market} ${date} is at stage ${status.stage}, not waiting for approval`);
    for (const line of status.deployPlan?.lines ?? []) console.log(line);
    const decision = { by: opts.by, ...(opts.note ? { note: opts.note } : {}) };
    await handle.signal(opts.reject ? rejectDeploy : approveDeploy, decision);
    console.log(`${opts.reject ? 'Rejected' : 'Approved'} ${market} ${date} as ${opts.by}.`);
  } finally {
    await close();
  }
}
