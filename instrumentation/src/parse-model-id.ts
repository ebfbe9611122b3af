/**
 * Turns any provider's model id into family / version / snapshot, so one model served under many ids
 * (Bedrock inference profiles, ARNs, OpenRouter slugs, Vertex `@` pins, `models/` prefixes) lands in one
 * chart series, and a new snapshot of the same model shows up as a new value of one column.
 *
 * The rule, applied to every vendor:
 * - **family** is what a team would treat as one unit across upgrades: `claude-opus` (4, 4.1, 4.7…),
 *   `gemini-flash` (1.5, 2.0, 2.5), `llama-70b-instruct` (3, 3.1, 3.3). OpenAI is the exception that proves
 *   the rule: it ships each generation as its own product line with its own price and limits, so the family
 *   is the product name (`gpt-4o`, `gpt-4o-mini`, `gpt-4.1-mini`, `o4-mini`) and the version is the
 *   generation token (`4o`, `4.1`, `o4`).
 * - **version** is the generation (`4.7`, `3.5`, `2.5`). For vendors whose only version marker is a date
 *   (Mistral `mistral-large-2411`, Cohere `command-a-03-2025`) the date is both version and snapshot.
 * - **snapshot** is the dated or numbered pin (`20241022`, `2024-08-06`, `002`, `0125`, `preview-05-20`).
 *   An id without one has snapshot '' — that does NOT mean it floats: Anthropic pins dateless ids from the
 *   4.6 generation on. Only `-latest` marks an alias; it is dropped (snapshot '').
 * - Bedrock: region prefixes (`us.`, `eu.`, `apac.`, `global.`…) and the vendor prefix are removed and the
 *   vendor recorded; the `-v1:0` packaging revision is dropped (it is the same weights as the direct API's id),
 *   except for Amazon's own models where `v1` is the only version marker (`amazon.nova-pro-v1:0` → 1).
 * - Fine-tunes (`ft:gpt-4o-mini-2024-07-18:org:name:id`) parse as their base model (family, version and the
 *   base snapshot) with `fineTuned: true`; `normalizedId` keeps the full fine-tune id.
 * - `normalizedId` is the lower-cased id with routing wrappers removed (region/vendor prefix, ARN, `models/`,
 *   Bedrock revision): `us.anthropic.claude-sonnet-4-20250514-v1:0` → `claude-sonnet-4-20250514`.
 * - Unknown ids never fail: family = the (normalised) id, version = ''. Empty input gives all fields ''.
 */

export interface ParsedModelId {
  family: string;
  version: string;
  snapshot: string;
  /** Who made the model (`anthropic`, `openai`, `google`, `meta`…), not who serves it; '' when unknown. */
  vendor: string;
  normalizedId: string;
  /** Present (true) for fine-tuned ids; family/version/snapshot then describe the base model. */
  fineTuned?: true;
}

const EMPTY: ParsedModelId = Object.freeze({
  family: '',
  version: '',
  snapshot: '',
  vendor: '',
  normalizedId: '',
});

// Vendor prefixes Bedrock puts before the model name (`anthropic.claude-…`, `meta.llama3-…`).
const BEDROCK_VENDORS = new Set([
  'anthropic',
  'meta',
  'amazon',
  'mistral',
  'cohere',
  'ai21',
  'deepseek',
  'openai',
  'qwen',
  'writer',
  'stability',
  'twelvelabs',
  'luma',
  'google',
  'nvidia',
  'minimax',
  'moonshot',
  'moonshotai',
]);
const BEDROCK_REGION_PREFIX = /^(?:us|eu|apac|global|us-gov|jp|au|ca)\./;
// `-v1:0`, `-v2`, `-1:0` (newer ids drop the v), optionally followed by a context-window tag `:200k`.
const BEDROCK_REVISION_SUFFIX = /-(?:v(\d+)(?::\d+)?|(\d+):\d+)(?::\d+k)?$/;

// Vendor from the model name when no prefix says so. First match wins.
const VENDOR_BY_NAME: ReadonlyArray<readonly [RegExp, string]> = [
  [/^claude/, 'anthropic'],
  [
    /^(?:gpt|chatgpt|o\d|text-embedding-(?:3|ada)|dall-e|whisper|tts|davinci|babbage|codex|computer-use)/,
    'openai',
  ],
  [/^(?:gemini|gemma|imagen|veo|text-embedding-0|learnlm)/, 'google'],
  [
    /^(?:mistral|mixtral|codestral|ministral|pixtral|magistral|devstral|open-mistral|open-mixtral|voxtral)/,
    'mistral',
  ],
  [/^(?:command|embed-|rerank-|c4ai-aya|aya)/, 'cohere'],
  [/^llama/, 'meta'],
  [/^(?:nova|titan)/, 'amazon'],
  [/^deepseek/, 'deepseek'],
  [/^grok/, 'xai'],
  [/^(?:qwen|qwq)/, 'qwen'],
  [/^(?:jamba|j2-)/, 'ai21'],
  [/^phi/, 'microsoft'],
];

// What a provider hint (gen_ai.provider.name) says about the vendor, for first-party APIs only.
const VENDOR_BY_PROVIDER: Readonly<Record<string, string>> = {
  openai: 'openai',
  'azure.ai.openai': 'openai',
  anthropic: 'anthropic',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  mistral_ai: 'mistral',
  cohere: 'cohere',
  deepseek: 'deepseek',
  x_ai: 'xai',
};

// Vendors that version by date only: the date suffix is the version too.
const DATE_VERSIONED =
  /^(?:mistral|mixtral|codestral|ministral|pixtral|magistral|devstral|open-mistral|voxtral|command)/;

// Names glued to their generation (`llama3`, `qwen2.5`, `phi4`) are split so the number reads as the version.
const GLUED_GENERATION = /^(llama|qwen|phi|gemma|glm|granite|olmo|falcon|nemotron|yi)(\d+(?:\.\d+)?)$/;
// Only bare small numbers are version parts; parameter and expert counts (`70b`, `8x7b`, `128e`) carry a
// unit letter and so stay in the family, where they belong (a 70b and an 8b model are different models).
const VERSION_TOKEN = /^\d{1,2}(?:\.\d{1,2})*$/;

/** Trailing pins, tried repeatedly from the end of the id (a pin can be followed by a qualifier). */
const SNAPSHOT_SUFFIXES: readonly RegExp[] = [
  /-(\d{4}-\d{2}-\d{2})$/, // 2024-08-06
  /-(\d{8})$/, // 20241022 (and Vertex's @20241022, rewritten to -)
  /-(\d{2}-\d{4})$/, // Cohere 08-2024
  /-((?:preview|exp)-\d{2}-\d{2})$/, // Gemini preview-05-20
  /-((?:preview|exp)-\d{4})$/, // exp-1206
  /-(\d{4})$/, // 0125, 2411, 1106 (MMDD / YYMM)
  /-(\d{3})$/, // Gemini 001 / 002
  /-(preview|exp|experimental)$/,
];

function stripRoutingWrappers(id: string): { core: string; vendor: string; revision: string } {
  let core = id;
  let vendor = '';
  let revision = '';
  // ARNs (foundation-model/, inference-profile/, provisioned-model/…): the model id is after the last '/'.
  if (core.startsWith('arn:')) core = core.slice(core.lastIndexOf('/') + 1);
  // Vertex `publishers/google/models/gemini-…` and Gemini's `models/gemini-…`.
  const modelsAt = core.lastIndexOf('models/');
  if (modelsAt >= 0) core = core.slice(modelsAt + 'models/'.length);
  // OpenRouter / Together / HF style `vendor/model`; a trailing `:free`-style route tag is not the model.
  const slash = core.lastIndexOf('/');
  if (slash >= 0) {
    vendor = core.slice(0, slash).split('/').pop() ?? '';
    core = core.slice(slash + 1);
    const tag = /:([a-z0-9.-]+)$/.exec(core);
    if (tag) core = core.slice(0, tag.index);
  }
  // Bedrock `[region.]vendor.model[-vN:M]`.
  const withoutRegion = core.replace(BEDROCK_REGION_PREFIX, '');
  const dot = withoutRegion.indexOf('.');
  if (dot > 0 && BEDROCK_VENDORS.has(withoutRegion.slice(0, dot))) {
    vendor = withoutRegion.slice(0, dot);
    core = withoutRegion.slice(dot + 1);
    const rev = BEDROCK_REVISION_SUFFIX.exec(core);
    if (rev) {
      revision = rev[1] ?? rev[2] ?? '';
      core = core.slice(0, rev.index);
    }
  }
  // Vertex pins with '@' (`claude-sonnet-4@20250514`); '-' makes it the same id as the direct API's.
  core = core.replace('@', '-');
  // Ollama `llama3.2:3b`: the tag after ':' is a size.
  const ollamaTag = /^([^:]+):(\d+(?:\.\d+)?[bm])$/.exec(core);
  if (ollamaTag) core = `${ollamaTag[1]}-${ollamaTag[2]}`;
  if (vendor === 'meta-llama') vendor = 'meta';
  if (vendor === 'mistralai') vendor = 'mistral';
  if (vendor === 'deepseek-ai') vendor = 'deepseek';
  if (vendor === 'x-ai') vendor = 'xai';
  if (vendor === 'moonshotai') vendor = 'moonshot';
  return { core, vendor, revision };
}

function splitSnapshot(core: string): { name: string; snapshot: string; alias: boolean } {
  let name = core;
  let alias = false;
  if (name.endsWith('-latest')) {
    alias = true;
    name = name.slice(0, -'-latest'.length);
  }
  const parts: string[] = [];
  for (let matched = true; matched;) {
    matched = false;
    for (const pattern of SNAPSHOT_SUFFIXES) {
      const m = pattern.exec(name);
      // Never eat the whole name (`o3`, `gpt-4`): something must remain before the pin.
      if (m && m.index > 0) {
        parts.unshift(m[1] ?? '');
        name = name.slice(0, m.index);
        matched = true;
        break;
      }
    }
  }
  return { name, snapshot: parts.join('-'), alias };
}

/** OpenAI: family = product name, version = generation token. Returns undefined for non-OpenAI names. */
function parseOpenAiName(name: string): { family: string; version: string } | undefined {
  const gpt = /^(?:chat)?gpt-(\d+(?:\.\d+)?[a-z]?)(?:-|$)/.exec(name);
  if (gpt) return { family: name, version: gpt[1] ?? '' };
  const oSeries = /^(o\d+)(?:-|$)/.exec(name);
  if (oSeries) return { family: name, version: oSeries[1] ?? '' };
  return undefined;
}

/** Every other vendor: numeric tokens form the version, the rest (sizes included) the family. */
function parseGenericName(name: string): { family: string; version: string } {
  const tokens = name.split('-').flatMap((token) => {
    const glued = GLUED_GENERATION.exec(token);
    return glued ? [glued[1] ?? '', glued[2] ?? ''] : [token];
  });
  const familyTokens: string[] = [];
  const versionParts: string[] = [];
  let versionClosed = false;
  for (const token of tokens) {
    if (!versionClosed && VERSION_TOKEN.test(token)) {
      versionParts.push(token);
      continue;
    }
    if (versionParts.length > 0) versionClosed = true;
    if (/^v\d+(?:\.\d+)?$/.test(token)) {
      // `deepseek-v3` names its generation with a v; a v after a version (`claude-3-5-sonnet-v2@…`) is a
      // revision already told apart by the snapshot date.
      if (versionParts.length === 0) {
        versionParts.push(token.slice(1));
        versionClosed = true;
      }
      continue;
    }
    familyTokens.push(token);
  }
  if (familyTokens.length === 0) return { family: name, version: versionParts.join('.') };
  return { family: familyTokens.join('-'), version: versionParts.join('.') };
}

function vendorFor(name: string, prefixVendor: string, providerHint: string | undefined): string {
  if (prefixVendor) return prefixVendor;
  for (const [pattern, vendor] of VENDOR_BY_NAME) if (pattern.test(name)) return vendor;
  return (providerHint && VENDOR_BY_PROVIDER[providerHint]) || '';
}

function parseUnsafe(rawId: string, providerHint: string | undefined): ParsedModelId {
  const id = rawId.trim().toLowerCase();
  if (id === '') return { ...EMPTY };

  // ft:<base>:<org>:<name>:<id> (OpenAI) — parse the base, keep the full id.
  if (id.startsWith('ft:')) {
    const base = id.slice(3).split(':')[0] ?? '';
    const parsed = base ? parseUnsafe(base, providerHint) : { ...EMPTY, family: id };
    return { ...parsed, normalizedId: id, fineTuned: true };
  }

  const { core, vendor: prefixVendor, revision } = stripRoutingWrappers(id);
  if (core === '') return { family: id, version: '', snapshot: '', vendor: prefixVendor, normalizedId: id };
  const { name, snapshot } = splitSnapshot(core);
  const vendor = vendorFor(name, prefixVendor, providerHint);

  const openAi = parseOpenAiName(name);
  let { family, version } = openAi ?? parseGenericName(name);
  if (!openAi && version === '' && snapshot !== '' && DATE_VERSIONED.test(name)) version = snapshot;
  // Amazon's models (and Anthropic's oldest, `claude-v2:1`) carry their only version in the revision.
  if (version === '' && revision !== '' && (vendor === 'amazon' || /^claude(?:-instant)?$/.test(name))) {
    version = revision;
  }
  // Nothing recognisable: the id itself is the family (never fail, never guess).
  if (version === '' && snapshot === '' && vendor === '') family = core;
  return { family, version, snapshot, vendor, normalizedId: core };
}

function parseTotal(modelId: string, providerHint: string | undefined): ParsedModelId {
  try {
    return parseUnsafe(modelId, providerHint);
  } catch {
    // Defensive only: the parser is regex-based and total, but a model id must never break a call.
    const id = modelId.trim().toLowerCase();
    return { ...EMPTY, family: id, normalizedId: id };
  }
}

// A process talks to a handful of models, and parsing one takes a dozen regex runs: every span end used to
// pay that twice. Results are memoised per (provider hint, id); the map is dropped whole when it fills, so
// a stream of ever-new ids (fine-tune ids, a misbehaving proxy) costs a re-parse, never unbounded memory.
const MAX_MEMOISED_IDS = 512;
const memo = new Map<string, Readonly<ParsedModelId>>();

/**
 * The memoised parse, shared and frozen: for hot paths inside this package that only read the result.
 * Not exported from the package index (callers there get a copy they may keep or change).
 */
export function parseModelIdShared(
  modelId: string | undefined | null,
  providerHint?: string,
): Readonly<ParsedModelId> {
  if (typeof modelId !== 'string') return EMPTY;
  const key = providerHint === undefined ? modelId : `${providerHint}\u0000${modelId}`;
  let parsed = memo.get(key);
  if (parsed === undefined) {
    parsed = Object.freeze(parseTotal(modelId, providerHint));
    if (memo.size >= MAX_MEMOISED_IDS) memo.clear();
    memo.set(key, parsed);
  }
  return parsed;
}

/**
 * Parses a model id from any provider into family / version / snapshot (rules in the module comment).
 * Pure and total: never throws, unknown ids come back as `{ family: id, version: '' }`. Memoised; each
 * call returns its own object.
 */
export function parseModelId(modelId: string | undefined | null, providerHint?: string): ParsedModelId {
  return { ...parseModelIdShared(modelId, providerHint) };
}

/**
 * How pinned an id is, for choosing between the request and the response model: a snapshot beats no
 * snapshot, then a longer version beats a shorter one (`gpt-4-0613` beats `gpt-4`; `gemini-1.5-flash-002`
 * beats `gemini-1.5-flash`).
 */
export function modelIdSpecificity(parsed: ParsedModelId): number {
  return (parsed.snapshot ? 1000 : 0) + parsed.version.length;
}
