"""Print the markdown tables of a family README (files with sizes, generation goldens) and
write SHA256SUMS.   python3 scripts/families/readme_tables.py FAMILY"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, files_table, write_sha256sums

fam = sys.argv[1]
root = REPO / "testdata" / "families" / fam
write_sha256sums(root)
rows = files_table(root)
total = sum(s for _, s in rows)
print(f"Total size: {total:,} bytes in {len(rows)} files (checksums in `SHA256SUMS`).\n")
print("| path | bytes |\n|---|---|")
for f, s in rows:
    print(f"| `{f}` | {s:,} |")
summ = json.loads((root / "golden" / "summary.json").read_text())
gen = summ["generation"]
if gen:
    keys = [k for k in gen[0] if k not in ("source", "margins")]
    print("\n| " + " | ".join(keys) + " | min margin |")
    print("|" + "---|" * (len(keys) + 1))
    for g in gen:
        m = [v for v in g["margins"].values() if v is not None]
        print("| " + " | ".join("-" if g[k] is None else f"`{g[k]}`" if k == "name" else str(g[k]) for k in keys)
              + f" | {min(m) if m else '-'} |")
