// Prints the hidden fields of the HTML form in the file argv[2], plus the name=value pairs that follow, as an
// application/x-www-form-urlencoded body: what a browser posts when the form's button is pressed. Used by the
// walkthrough to sign in and consent on SliceApi's OAuth page with curl.
import { readFileSync } from "node:fs";

const html = readFileSync(process.argv[2], "utf8");
const decode = (s) => s.replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
  .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
  .replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const form = new URLSearchParams();
for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
  form.set(decode(name), decode(value));
}
for (const pair of process.argv.slice(3)) {
  const at = pair.indexOf("=");
  form.set(pair.slice(0, at), pair.slice(at + 1));
}
process.stdout.write(form.toString());
