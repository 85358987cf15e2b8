"""Answers Cove's generated cases with GrowthBook's own code: the Python
SDK (`growthbook`) for assignments and the stats engine (`gbstats`) for
results. Reads {"assign": [...], "versus": [...], "srm": [...]} on stdin,
writes the answers, in the same order, on stdout."""

import json
import sys

from growthbook import Experiment, GrowthBook, InMemoryStickyBucketService
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.models.statistics import ProportionStatistic
from gbstats.utils import check_srm


def assign(case):
    e = case["experiment"]
    exp = Experiment(
        key=e["key"],
        variations=list(range(e["variations"])),
        weights=e.get("weights"),
        coverage=e.get("coverage"),
        seed=e.get("seed"),
        hashVersion=e.get("hashVersion"),
        hashAttribute=e.get("hashAttribute", "id"),
        fallbackAttribute=e.get("fallbackAttribute"),
        namespace=tuple(e["namespace"]) if e.get("namespace") else None,
        condition=e.get("condition"),
        force=e.get("force"),
    )
    # Experiments read the fallback attribute only with sticky bucketing on;
    # a fresh, empty service changes nothing else.
    service = InMemoryStickyBucketService() if e.get("fallbackAttribute") else None
    gb = GrowthBook(attributes=case["attributes"], sticky_bucket_service=service)
    r = gb.run(exp)
    gb.destroy()
    return {
        "in_experiment": r.inExperiment,
        "variation": r.variationId,
        "hash_used": r.hashUsed,
        "bucket": r.bucket,
    }


def versus(case):
    (na, ca), (nb, cb) = case
    res = EffectBayesianABTest(
        ProportionStatistic(n=na, sum=ca),
        ProportionStatistic(n=nb, sum=cb),
        EffectBayesianConfig(),
    ).compute_result()
    return {
        "uplift": res.expected,
        "uplift_ci": list(res.ci),
        "chance_to_win": res.chance_to_win,
        "risk": list(res.risk),
    }


def srm(case):
    return float(check_srm(case["observed"], case["weights"]))


cases = json.load(sys.stdin)
json.dump(
    {
        "assign": [assign(c) for c in cases.get("assign", [])],
        "versus": [versus(c) for c in cases.get("versus", [])],
        "srm": [srm(c) for c in cases.get("srm", [])],
    },
    sys.stdout,
)
