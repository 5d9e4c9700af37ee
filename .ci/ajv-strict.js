// Compile each JSON Schema given on the command line with Ajv (draft 2020-12) in strict mode,
// union types allowed; print every strict-mode message and exit 1 if there was any.
// Usage: node .ci/ajv-strict.js schemas/*.json   (after: npm ci --prefix .ci)
"use strict";
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats");

let failed = 0;
for (const file of process.argv.slice(2)) {
  const messages = [];
  const collect = (...parts) => messages.push(parts.join(" "));
  const ajv = new Ajv2020({ strict: "log", allowUnionTypes: true, logger: { log() {}, warn: collect, error: collect } });
  addFormats(ajv);
  try {
    ajv.compile(JSON.parse(fs.readFileSync(file, "utf8")));
  } catch (error) {
    collect(error.message);
  }
  for (const message of messages) console.log(`${file}: ${message}`);
  if (messages.length) failed += 1;
  else console.log(`${file}: compiles in Ajv strict mode`);
}
process.exit(failed ? 1 : 0);
