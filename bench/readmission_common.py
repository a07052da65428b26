"""Shared by the bench's readmission references (readmission_polars.py, readmission_duckdb.py):
the definition's constants and the small lookup tables both engines join against.

Bench only: the product never imports Python. The definition is activities/features/readmission.ts's
header; the constants are typed out again (as tests/unit/features_reference.py does), not read from
the TypeScript, so the references stay independent of the code they are measured against.
"""
import datetime as dt
import re

DAY_MS = 86_400_000
MAX_SHIFT_DAYS = 180
MAX_AGE = 90

LABS = [
    ("glucose", "2345-7", "mg/dL"), ("creatinine", "2160-0", "mg/dL"), ("hemoglobin", "718-7", "g/dL"),
    ("hematocrit", "4544-3", "%"), ("sodium", "2951-2", "mmol/L"), ("potassium", "2823-3", "mmol/L"),
    ("chloride", "2075-0", "mmol/L"), ("bicarbonate", "2028-9", "mmol/L"), ("bun", "3094-0", "mg/dL"),
    ("calcium", "17861-6", "mg/dL"), ("wbc", "6690-2", "10*3/uL"), ("platelets", "777-3", "10*3/uL"),
    ("albumin", "1751-7", "g/dL"), ("bilirubin", "1975-2", "mg/dL"), ("alt", "1742-6", "U/L"),
    ("ast", "1920-8", "U/L"), ("lactate", "2524-7", "mmol/L"), ("inr", "6301-6", "{INR}"),
    ("magnesium", "19123-9", "mg/dL"), ("phosphate", "2777-1", "mg/dL"), ("hba1c", "4548-4", "%"),
    ("troponin", "10839-9", "ng/mL"),
]

# (loinc, unit as sent, lower case) -> multiplier to the canonical unit. The canonical unit maps to 1;
# the alternate units listed are the ones the generator writes (labs.ts); rows in any other unit are
# dropped (carepipe converts more spellings: the generator sends none of them).
UNIT_FACTORS = [(loinc, unit.lower(), 1.0) for _, loinc, unit in LABS] + [
    ("2345-7", "mmol/l", 18.016), ("2160-0", "umol/l", 1 / 88.42), ("718-7", "g/l", 1 / 10),
]

# Quan et al. 2005, ICD-10 coding of the Charlson comorbidities; Charlson 1987 weights.
QUAN = {
    "mi": (1, "I21 I22 I25.2"),
    "chf": (1, "I09.9 I11.0 I13.0 I13.2 I25.5 I42.0 I42.5-I42.9 I43 I50 P29.0"),
    "pvd": (1, "I70 I71 I73.1 I73.8 I73.9 I77.1 I79.0 I79.2 K55.1 K55.8 K55.9 Z95.8 Z95.9"),
    "cvd": (1, "G45 G46 H34.0 I60-I69"),
    "dementia": (1, "F00-F03 F05.1 G30 G31.1"),
    "copd": (1, "I27.8 I27.9 J40-J47 J60-J67 J68.4 J70.1 J70.3"),
    "rheum": (1, "M05 M06 M31.5 M32-M34 M35.1 M35.3 M36.0"),
    "pud": (1, "K25-K28"),
    "mild_liver": (1, "B18 K70.0-K70.3 K70.9 K71.3-K71.5 K71.7 K73 K74 K76.0 K76.2-K76.4 K76.8 K76.9 Z94.4"),
    "dm": (1, "E10.0 E10.1 E10.6 E10.8 E10.9 E11.0 E11.1 E11.6 E11.8 E11.9 E12.0 E12.1 E12.6 E12.8 E12.9 "
              "E13.0 E13.1 E13.6 E13.8 E13.9 E14.0 E14.1 E14.6 E14.8 E14.9"),
    "dm_comp": (2, "E10.2-E10.5 E10.7 E11.2-E11.5 E11.7 E12.2-E12.5 E12.7 E13.2-E13.5 E13.7 E14.2-E14.5 E14.7"),
    "hemiplegia": (2, "G04.1 G11.4 G80.1 G80.2 G81 G82 G83.0-G83.4 G83.9"),
    "renal": (2, "I12.0 I13.1 N03.2-N03.7 N05.2-N05.7 N18 N19 N25.0 Z49.0-Z49.2 Z94.0 Z99.2"),
    "cancer": (2, "C00-C26 C30-C34 C37-C41 C43 C45-C58 C60-C76 C81-C85 C88 C90-C97"),
    "severe_liver": (3, "I85.0 I85.9 I86.4 I98.2 K70.4 K71.1 K72.1 K72.9 K76.5 K76.6 K76.7"),
    "metastatic": (6, "C77-C80"),
    "hiv": (6, "B20-B22 B24"),
}
CATEGORY_BIT = {name: 1 << i for i, name in enumerate(QUAN)}
HIERARCHY = [("dm_comp", "dm"), ("severe_liver", "mild_liver"), ("metastatic", "cancer")]

CHAPTERS = [
    ("A00", "B99", "infectious"), ("C00", "D49", "neoplasms"), ("D50", "D89", "blood_immune"),
    ("E00", "E89", "endocrine_metabolic"), ("F01", "F99", "mental_behavioural"), ("G00", "G99", "nervous"),
    ("H00", "H59", "eye"), ("H60", "H95", "ear"), ("I00", "I99", "circulatory"), ("J00", "J99", "respiratory"),
    ("K00", "K95", "digestive"), ("L00", "L99", "skin"), ("M00", "M99", "musculoskeletal"),
    ("N00", "N99", "genitourinary"), ("O00", "O9A", "pregnancy"), ("P00", "P96", "perinatal"),
    ("Q00", "Q99", "congenital"), ("R00", "R99", "symptoms_findings"), ("S00", "T88", "injury_poisoning"),
    ("U00", "U85", "special_purposes"), ("V00", "Y99", "external_causes"), ("Z00", "Z99", "health_factors"),
]

# What the references leave out of carepipe's ingest, printed beside their figures.
SKIPPED_RULES = (
    "row rejects (impossible lab values, discharge before admission, implausible dates/ages, malformed codes, "
    "invalid coded values, unknown LOINC); unit spellings beyond the generator's three alternate units; "
    "censoring proof 2 is on unshifted times (carepipe's clock is shifted per patient)"
)


def _prefixes():
    out = {}
    for name, (_, spec) in QUAN.items():
        prefixes = []
        for item in spec.split():
            if "-" not in item:
                prefixes.append(item.replace(".", ""))
                continue
            lo, hi = (x.replace(".", "") for x in item.split("-"))
            digits = len(lo) - 1
            for n in range(int(lo[1:]), int(hi[1:]) + 1):
                prefixes.append(lo[0] + str(n).zfill(digits))
        out[name] = prefixes
    return out


PREFIXES = _prefixes()


def _normal(code):
    return code.replace(".", "").replace(" ", "").upper()


def code_mask(code):
    """The Charlson categories of one ICD-10 code, as a bit mask."""
    c = _normal(code)
    mask = 0
    for name, prefixes in PREFIXES.items():
        if any(c.startswith(p) for p in prefixes):
            mask |= CATEGORY_BIT[name]
    return mask


def mask_score(mask):
    """Charlson index of a set of categories, the hierarchy applied (the worse form counts alone)."""
    for over, under in HIERARCHY:
        if mask & CATEGORY_BIT[over]:
            mask &= ~CATEGORY_BIT[under]
    return sum(w for name, (w, _) in QUAN.items() if mask & CATEGORY_BIT[name])


def chapter(code):
    if code is None:
        return None
    c = _normal(code)
    if not re.match(r"^[A-Z][0-9][0-9A-Z]", c):
        return None
    cat = c[:3]
    for lo, hi, name in CHAPTERS:
        if lo <= cat <= hi:
            return name
    return None


def epoch_day(date):
    return (dt.date.fromisoformat(date) - dt.date(1970, 1, 1)).days
