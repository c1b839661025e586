// The platforms' ad review, a hidden policy: every new ad is judged once, when it is created, on
// its content (the media it shows and its text). An ad whose text holds a banned term is rejected
// naming the term; otherwise a seeded share of contents is rejected for one of a few policy
// reasons. The same content is always judged the same, on every run and every machine. For
// `delaySeconds` after creation the ad is still in review. The decision is stored on the ad, so it
// survives the store's persistence and is not made again when the ad is paused or resumed.
import { keyed } from '../core/random.ts';
import type { PlatformName } from './contracts.ts';
import type { ReviewPolicy } from './world.ts';

export interface Rejection {
  /** Meta's policy name, the key in `ad_review_feedback.global`. */
  policy: string;
  /** Why, in the platform's words (Meta's feedback text, TikTok's reject reason). */
  reason: string;
  /** What to change, as TikTok's `reject_info.suggestion` says it. */
  suggestion: string;
}

/** One ad's review, made once at creation. */
export interface ReviewDecision {
  /** Wall-clock time (ms since the epoch) until which the ad is still in review. */
  until: number;
  /** Null when the ad is approved. */
  rejection: Rejection | null;
}

export type ReviewState = 'IN_REVIEW' | 'APPROVED' | 'REJECTED';

/** What an ad shows: its media (image hash or video id) and its texts. */
export interface ReviewContent {
  media: string;
  texts: Array<string | null | undefined>;
}

/** Reasons drawn for the seeded share of rejections (they stand for what a reviewer would find). */
const POLICY_REASONS: Rejection[] = [
  {
    policy: 'Misleading Claims',
    reason: 'Ads must not contain deceptive, false or misleading claims.',
    suggestion: 'Remove exaggerated or unverifiable claims from the ad and submit it again.',
  },
  {
    policy: 'Low Quality or Disruptive Content',
    reason: 'Ads must not contain content that leads to unexpected or disruptive experiences.',
    suggestion: 'Make sure the creative matches what the landing page offers.',
  },
  {
    policy: 'Intellectual Property',
    reason: 'Ads must not use content that infringes the rights of a third party.',
    suggestion: 'Use only images and music you hold the rights to, or show proof of license.',
  },
  {
    policy: 'Unacceptable Business Practices',
    reason: 'Ads must not promote products or services that use deceptive practices.',
    suggestion: 'Describe the offer and its conditions accurately.',
  },
];

/** Decides a new ad's review under the platform's current policy. */
export function reviewAd(
  seed: number,
  platform: PlatformName,
  policy: ReviewPolicy,
  content: ReviewContent,
  now = Date.now(),
): ReviewDecision {
  const until = now + Math.round(policy.delaySeconds * 1000);
  const texts = content.texts.filter((t): t is string => typeof t === 'string' && t !== '');
  const lower = texts.join('\n').toLowerCase();
  const term = policy.bannedTerms.find((t) => lower.includes(t.toLowerCase()));
  if (term !== undefined) {
    return {
      until,
      rejection: {
        policy: 'Misleading Claims',
        reason: `The ad's text contains "${term}", a claim ads are not allowed to make.`,
        suggestion: `Remove "${term}" from the ad text and submit the ad again.`,
      },
    };
  }
  const draw = keyed(seed, 'review', platform, [content.media, ...texts].join('\u0000'));
  if (draw() < policy.rejectionRate) {
    return { until, rejection: POLICY_REASONS[Math.floor(draw() * POLICY_REASONS.length)]! };
  }
  return { until, rejection: null };
}

/** Where an ad's review stands now; ads made before reviews existed count as approved. */
export function reviewState(decision: ReviewDecision | undefined, now = Date.now()): ReviewState {
  if (!decision) return 'APPROVED';
  if (now < decision.until) return 'IN_REVIEW';
  return decision.rejection ? 'REJECTED' : 'APPROVED';
}
