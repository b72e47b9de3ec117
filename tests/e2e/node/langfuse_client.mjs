// Existing Langfuse code, unmodified, against PromptDB: the official TypeScript client
// (@langfuse/client). Reads LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASE_URL from
// the environment, as Langfuse programs do, and DEAD_BASE_URL, where nothing listens.
import { LangfuseClient } from "@langfuse/client";

function check(cond, message) {
  if (!cond) {
    console.error(`check failed: ${message}`);
    process.exit(1);
  }
}

const lf = new LangfuseClient();
const name = "ts/Release Notes";

await lf.prompt.create({
  name,
  prompt: "Notes for {{version}}",
  labels: ["production"],
  config: { model: "gpt-5" },
  tags: ["ts"],
  commitMessage: "from typescript",
});
let p = await lf.prompt.get(name, { cacheTtlSeconds: 0 });
check(p.version === 1 && p.name === name, `default label: ${p.version} ${p.name}`);
check(p.compile({ version: "2.0" }) === "Notes for 2.0", "compile()");
check(p.config.model === "gpt-5", `config: ${JSON.stringify(p.config)}`);
check(p.labels.includes("production"), `labels: ${p.labels}`);

const v2 = await lf.prompt.create({ name, prompt: "Release notes for {{version}}", labels: [] });
check(v2.version === 2, `second version: ${v2.version}`);
check((await lf.prompt.get(name, { label: "latest", cacheTtlSeconds: 0 })).version === 2, "latest");
check((await lf.prompt.get(name, { version: 1, cacheTtlSeconds: 0 })).prompt === "Notes for {{version}}", "by version");
await lf.prompt.update({ name, version: 2, newLabels: ["production"] });
check((await lf.prompt.get(name, { cacheTtlSeconds: 0 })).version === 2, "label moved");

await lf.prompt.create({
  name: "ts-chat",
  type: "chat",
  labels: ["production"],
  prompt: [
    { role: "system", content: "You write {{style}}." },
    { role: "user", content: "{{topic}}" },
  ],
});
const chat = await lf.prompt.get("ts-chat", { type: "chat", cacheTtlSeconds: 0 });
const messages = chat.compile({ style: "haiku", topic: "rust" });
check(
  JSON.stringify(messages) ===
    JSON.stringify([
      { role: "system", content: "You write haiku." },
      { role: "user", content: "rust" },
    ]),
  `chat compile: ${JSON.stringify(messages)}`,
);

let missing = false;
try {
  await lf.prompt.get("nope", { cacheTtlSeconds: 0 });
} catch (e) {
  missing = true;
}
check(missing, "a missing prompt throws");
const fb = await lf.prompt.get("nope", { cacheTtlSeconds: 0, fallback: "Plan B {{x}}" });
check(fb.isFallback && fb.compile({ x: "1" }) === "Plan B 1", "fallback");

const down = new LangfuseClient({ baseUrl: process.env.DEAD_BASE_URL });
const offline = await down.prompt.get(name, { fallback: "offline {{version}}", maxRetries: 0 });
check(offline.isFallback, "the fallback when PromptDB is down");

const wrong = new LangfuseClient({ publicKey: "pk-pdb-00000000-0000-7000-8000-000000000000" });
let refused = false;
try {
  await wrong.prompt.get(name, { cacheTtlSeconds: 0 });
} catch (e) {
  refused = true;
}
check(refused, "a wrong key pair is refused");
console.log("langfuse typescript: all checks passed");
process.exit(0);
