"""Answers Cove's generated cases with GrowthBook's own code: the Python
SDK (`growthbook`) for assignments and the stats engine (`gbstats`) for
results. Reads {"assign": [...], "versus": [...], "srm": [...], "means": [...]}
on stdin, writes the answers, in the same order, on stdout. A "means" case is
two arms of per-unit values ({"post": [...], "pre": [...], "orders": [...]}):
revenue per unit with and without CUPED, and revenue per order."""

import json
import sys

from growthbook import Experiment, GrowthBook, InMemoryStickyBucketService
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
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


def moments(values):
    return SampleMeanStatistic(
        n=len(values), sum=sum(values), sum_squares=sum(v * v for v in values)
    )


def products(x, y):
    return sum(a * b for a, b in zip(x, y))


def both(make):
    """The Bayesian and the frequentist answers; `make` builds fresh
    statistics for each (CUPED's theta is set on them by the test)."""
    bayes = EffectBayesianABTest(*make(), EffectBayesianConfig()).compute_result()
    freq = TwoSidedTTest(*make(), FrequentistConfig()).compute_result()
    return {
        "uplift": bayes.expected,
        "uplift_ci": list(bayes.ci),
        "chance_to_win": bayes.chance_to_win,
        "risk": list(bayes.risk),
        "frequentist_uplift": freq.expected,
        "confidence_ci": list(freq.ci),
        "p_value": freq.p_value,
    }


def means(case):
    def plain():
        return tuple(moments(case[k]["post"]) for k in ("a", "b"))

    def cuped():
        return tuple(
            RegressionAdjustedStatistic(
                n=len(case[k]["post"]),
                post_statistic=moments(case[k]["post"]),
                pre_statistic=moments(case[k]["pre"]),
                post_pre_sum_of_products=products(case[k]["post"], case[k]["pre"]),
                theta=0,
            )
            for k in ("a", "b")
        )

    def ratio():
        return tuple(
            RatioStatistic(
                n=len(case[k]["post"]),
                m_statistic=moments(case[k]["post"]),
                d_statistic=moments(case[k]["orders"]),
                m_d_sum_of_products=products(case[k]["post"], case[k]["orders"]),
            )
            for k in ("a", "b")
        )

    return {"plain": both(plain), "cuped": both(cuped), "ratio": both(ratio)}


def srm(case):
    return float(check_srm(case["observed"], case["weights"]))


cases = json.load(sys.stdin)
json.dump(
    {
        "assign": [assign(c) for c in cases.get("assign", [])],
        "versus": [versus(c) for c in cases.get("versus", [])],
        "srm": [srm(c) for c in cases.get("srm", [])],
        "means": [means(c) for c in cases.get("means", [])],
    },
    sys.stdout,
)
