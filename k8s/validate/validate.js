#!/usr/bin/env node
// Validates every object of rendered manifests (multi-document YAML, e.g. `kubectl kustomize
// k8s/overlays/cpu-only`) against the Kubernetes JSON schema of its apiVersion and kind, offline: the
// schemas ship inside the kubernetes-models package (Kubernetes 1.32 API). Prints one line per object,
// every problem with its object and field path, and exits 1 when any object is not valid.
//   node k8s/validate/validate.js FILE [FILE...]      (or - for standard input)
"use strict";
const fs = require("fs");
const path = require("path");
let YAML, models;
try {
  YAML = require("yaml");
  models = path.dirname(require.resolve("kubernetes-models/package.json"));
} catch (e) {
  console.error(`k8s/validate: its packages are not installed (${e.message.split("\n")[0]}); run \`make k8s-deps\` (npm ci --prefix k8s/validate)`);
  process.exit(2);
}

// apiVersion "apps/v1" -> kubernetes-models/apps/v1/KIND; the core group "v1" -> kubernetes-models/v1/KIND.
function modelOf(apiVersion, kind) {
  const file = path.join(models, ...apiVersion.split("/"), kind + ".js");
  if (!fs.existsSync(file)) return null;
  return require(file)[kind];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: validate.js FILE [FILE...]   (rendered manifests; - for standard input)");
  process.exit(2);
}
let objects = 0;
const problems = [];
for (const file of files) {
  const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
  for (const document of YAML.parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      problems.push(`${file}: not YAML: ${document.errors.map(e => e.message).join("; ")}`);
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    const name = `${file}: ${object.kind ?? "?"} ${object.metadata?.name ?? "?"}`;
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
      problems.push(`${name}: apiVersion and kind are required`);
      continue;
    }
    const Model = modelOf(object.apiVersion, object.kind);
    if (!Model) {
      problems.push(`${name}: no schema for ${object.apiVersion} ${object.kind} (not a built-in kind of Kubernetes 1.32)`);
      continue;
    }
    objects++;
    try {
      new Model(object).validate();
      console.log(`valid: ${object.apiVersion} ${object.kind} ${object.metadata?.name ?? ""}`);
    } catch (e) {
      const details = (e.errors ?? []).map(d => `${d.instancePath || "/"} ${d.message}`);
      problems.push(`${name}: ${details.length > 0 ? details.join("; ") : e.message}`);
    }
  }
}
for (const problem of problems) console.error("invalid: " + problem);
console.log(`${objects} objects checked, ${problems.length} problems`);
process.exit(problems.length > 0 ? 1 : 0);
