"""SYNTHETIC national register of social organizations, for benchmarks and tests only — not real data.

    python bench/synthetic_org_register.py --rows 100000 [--seed 2024] [--out DIR]

Writes `SYNTHETIC-org-register-<rows>-seed<seed>.csv` (UTF-8, Chinese headers as a national register
export would have them) whose first line says it is synthetic, and prints its path and sha256. The same
rows and seed always give the same bytes.

Shape: 31 provinces (uneven, seeded weights), the three types in the shares of the bundled 2012
year-end counts (data/snapshots/observations.csv, mca-2012-bulletin), founding dates 1980–2024 with
more foundings in later years, and organizations flagged as engaged in international exchange at the
2012 all-types rate of the bundled figures (about 0.1 %). Names, codes, authorities and scopes are
made up and say 合成 (synthetic). A few seeded defects (repeated or malformed credit codes) give
validation something real to find; `defect_rate=0` turns them off."""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent

LABEL = "SYNTHETIC"
COLUMNS = ("统一社会信用代码", "社会组织名称", "社会组织类型", "登记管理机关", "所在省份", "成立登记日期",
           "业务范围", "国际交流合作")

# The 31 provincial-level divisions of mainland China with their GB/T 2260 codes: a vocabulary, not data.
PROVINCES = (
    ("11", "北京市"), ("12", "天津市"), ("13", "河北省"), ("14", "山西省"), ("15", "内蒙古自治区"),
    ("21", "辽宁省"), ("22", "吉林省"), ("23", "黑龙江省"), ("31", "上海市"), ("32", "江苏省"),
    ("33", "浙江省"), ("34", "安徽省"), ("35", "福建省"), ("36", "江西省"), ("37", "山东省"),
    ("41", "河南省"), ("42", "湖北省"), ("43", "湖南省"), ("44", "广东省"), ("45", "广西壮族自治区"),
    ("46", "海南省"), ("50", "重庆市"), ("51", "四川省"), ("52", "贵州省"), ("53", "云南省"),
    ("54", "西藏自治区"), ("61", "陕西省"), ("62", "甘肃省"), ("63", "青海省"), ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"),
)
# org_type -> (label in the register, credit-code type digit, name endings)
TYPES = {
    "social_association": ("社会团体", "1", ("协会", "学会", "商会", "联合会")),
    "private_non_enterprise": ("民办非企业单位", "2", ("服务中心", "研究院", "学校", "促进中心")),
    "foundation": ("基金会", "3", ("基金会",)),
}
FIRST_YEAR, LAST_YEAR = 1980, 2024
SCOPES = ("教育培训", "扶贫济困", "环境保护", "社区服务", "医疗救助", "文化交流", "科学研究", "行业自律",
          "养老服务", "助学", "学术研讨", "法律援助")
INTERNATIONAL_SCOPE = "国际交流与合作"
CODE_CHARS = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))  # GB 32100 alphabet (no I, O, S, V, Z)


@dataclass(frozen=True)
class Register:
    path: Path
    rows: int
    seed: int
    sha256: str
    bytes: int


def bundled_shares(path: Path | None = None) -> tuple[dict[str, float], float]:
    """Type shares and the engaged rate from the bundled 2012 year-end figures (first source per figure)."""
    obs = pl.read_csv(path or ROOT / "data" / "snapshots" / "observations.csv", infer_schema=False)
    y = obs.filter((pl.col("year") == "2012") & (pl.col("period") == "year_end"))

    def figure(measure: str, org_type: str) -> float:
        hit = y.filter((pl.col("measure") == measure) & (pl.col("org_type") == org_type))
        if hit.height == 0:
            raise SystemExit(f"bundled observations lack 2012 year_end {measure} for {org_type}")
        return float(hit["value"][0])

    counts = {t: figure("registered", t) for t in TYPES}
    total = sum(counts.values())
    rate = figure("engaged_international", "all") / figure("registered", "all")
    return {t: c / total for t, c in counts.items()}, rate


def generate(rows: int, seed: int = 2024, out_dir: Path | None = None, *, defect_rate: float = 1e-4) -> Register:
    """Write the SYNTHETIC register file and return where it is and its sha256."""
    rng = np.random.default_rng(seed)
    shares, engaged_rate = bundled_shares()
    type_keys = list(TYPES)
    org_type = rng.choice(len(type_keys), size=rows, p=[shares[t] for t in type_keys])

    # Uneven provinces: seeded weights between 0.2 and 3 (synthetic, not a real distribution).
    pw = rng.uniform(0.2, 3.0, size=len(PROVINCES))
    prov = rng.choice(len(PROVINCES), size=rows, p=pw / pw.sum())

    # More foundings in later years: weights grow 8 % a year (synthetic).
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    yw = 1.08 ** (years - FIRST_YEAR)
    year = rng.choice(years, size=rows, p=yw / yw.sum())
    day = rng.integers(0, 365, size=rows)
    engaged = rng.random(rows) < engaged_rate

    # Credit codes: 5 (civil affairs) + type digit + division (province + 4 digits) + 8 digits made
    # unique by a seeded permutation of the row number + 2 check characters (random: not computed).
    serial = rng.permutation(rows) + rng.integers(0, 10**8 - rows)
    division = rng.integers(0, 10**4, size=rows)
    checks = CODE_CHARS[rng.integers(0, len(CODE_CHARS), size=(rows, 2))]
    level = rng.choice(4, size=rows, p=[0.01, 0.19, 0.45, 0.35])  # ministry, province, city, county
    scope_a = rng.integers(0, len(SCOPES), size=rows)
    scope_b = rng.integers(0, len(SCOPES), size=rows)
    renamed = rng.random(rows) < 0.5  # 民办非企业单位 registered after 2016 may appear as 社会服务机构
    ending = rng.integers(0, 4, size=rows)

    prov_code = pl.Series([PROVINCES[i][0] for i in range(len(PROVINCES))])
    prov_name = pl.Series([PROVINCES[i][1] for i in range(len(PROVINCES))])
    df = pl.DataFrame({
        "t": org_type.astype(np.int8), "p": prov.astype(np.int8), "year": year.astype(np.int32),
        "day": day.astype(np.int32), "engaged": engaged, "serial": serial.astype(np.int64),
        "division": division.astype(np.int32), "c1": checks[:, 0], "c2": checks[:, 1],
        "level": level.astype(np.int8), "sa": scope_a.astype(np.int8), "sb": scope_b.astype(np.int8),
        "renamed": renamed, "ending": ending.astype(np.int8), "n": np.arange(1, rows + 1),
    })
    type_label = pl.col("t").replace_strict(list(range(3)), [TYPES[t][0] for t in type_keys])
    type_digit = pl.col("t").replace_strict(list(range(3)), [TYPES[t][1] for t in type_keys])
    endings = [[TYPES[t][2][i % len(TYPES[t][2])] for i in range(4)] for t in type_keys]
    name_end = pl.col("t").cast(pl.Int32) * 4 + pl.col("ending").cast(pl.Int32)
    province = pl.col("p").replace_strict(list(range(len(PROVINCES))), prov_name)
    founded = (pl.date(pl.col("year"), 1, 1) + pl.duration(days=pl.col("day"))).clip(
        upper_bound=pl.date(pl.col("year"), 12, 31))
    out = df.select(
        pl.concat_str(pl.lit("5"), type_digit,
                      pl.col("p").replace_strict(list(range(len(PROVINCES))), prov_code),
                      pl.col("division").cast(pl.String).str.zfill(4),
                      pl.col("serial").cast(pl.String).str.zfill(8), pl.col("c1"), pl.col("c2"))
        .alias(COLUMNS[0]),
        pl.concat_str(province.str.slice(0, 2), pl.lit("合成样例"), pl.col("n").cast(pl.String).str.zfill(7),
                      name_end.replace_strict(list(range(12)), [e for es in endings for e in es]))
        .alias(COLUMNS[1]),
        pl.when((pl.col("t") == 1) & (pl.col("year") > 2016) & pl.col("renamed"))
        .then(pl.lit("社会服务机构")).otherwise(type_label).alias(COLUMNS[2]),
        pl.when(pl.col("level") == 0).then(pl.lit("民政部"))
        .when(pl.col("level") == 1).then(pl.concat_str(province, pl.lit("民政厅")))
        .when(pl.col("level") == 2).then(pl.concat_str(province, pl.lit("合成样例市民政局")))
        .otherwise(pl.concat_str(province, pl.lit("合成样例县民政局"))).alias(COLUMNS[3]),
        province.alias(COLUMNS[4]),
        founded.dt.strftime("%Y-%m-%d").alias(COLUMNS[5]),
        pl.concat_str(pl.col("sa").replace_strict(list(range(len(SCOPES))), list(SCOPES)), pl.lit("；"),
                      pl.col("sb").replace_strict(list(range(len(SCOPES))), list(SCOPES)),
                      pl.when(pl.col("engaged")).then(pl.lit("；" + INTERNATIONAL_SCOPE)).otherwise(pl.lit("")))
        .alias(COLUMNS[6]),
        pl.when(pl.col("engaged")).then(pl.lit("是")).otherwise(pl.lit("否")).alias(COLUMNS[7]),
    )
    if defect_rate > 0:
        # Seeded defects a real register has: a code given twice, a code cut short.
        n = max(1, int(rows * defect_rate))
        picks = rng.choice(rows, size=2 * n, replace=False)
        code = out[COLUMNS[0]].to_numpy().copy()
        code[picks[:n]] = code[(picks[:n] + 1) % rows]
        code[picks[n:]] = np.array([c[:-1] for c in code[picks[n:]]])
        out = out.with_columns(pl.Series(COLUMNS[0], code))

    out_dir = Path(out_dir) if out_dir else ROOT / "outputs" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{LABEL}-org-register-{rows}-seed{seed}.csv"
    with open(path, "wb") as fh:
        fh.write((f"# {LABEL}: a made-up national register of social organizations ({rows} rows, seed {seed}), "
                  "written by bench/synthetic_org_register.py for benchmarks and tests. Not real data.\n")
                 .encode("utf-8"))
        out.write_csv(fh)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Register(path, rows, seed, digest, path.stat().st_size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", type=Path, default=None, help="folder (default outputs/bench)")
    ap.add_argument("--defect-rate", type=float, default=1e-4)
    a = ap.parse_args()
    reg = generate(a.rows, a.seed, a.out, defect_rate=a.defect_rate)
    print(f"{LABEL} register: {reg.path} ({reg.rows} rows, {reg.bytes} bytes) sha256 {reg.sha256}")


if __name__ == "__main__":
    main()
