// Writes expected.json: the ids that Hugging Face's own JavaScript tokenizer gives for texts.json
// with tokenizer.json. Run from this directory:
//   npm install --no-save @huggingface/tokenizers@0.2.0 && node generate.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const tokenizerJson = JSON.parse(readFileSync("tokenizer.json", "utf8"));
const texts = JSON.parse(readFileSync("texts.json", "utf8"));
const tokenizer = new Tokenizer(tokenizerJson, {});
const expected = texts.map((text) => tokenizer.encode(text, { add_special_tokens: false }).ids);
writeFileSync("expected.json", JSON.stringify(expected) + "\n");
console.log(`wrote ${expected.length} encodings`);
