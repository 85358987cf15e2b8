"""Answers what Cove's RFM run should give on CDNOW's raw transactions,
with `lifetimes` itself: BG/NBD and Gamma-Gamma fitted on lifetimes'
summary of the transactions (days, divided by 7: weeks), and, for the
customers asked, P(alive), the purchases expected within the horizon, the
expected value of a purchase and the lifetime value. Reads {"path",
"as_of", "horizon_weeks", "months", "discount", "customers"} on stdin and
writes the answers on stdout."""

import json
import sys

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

q = json.load(sys.stdin)
tx = pd.read_csv(q["path"], sep=r"\s+", header=None, dtype={0: str},
                 names=["customer_id", "customer_index", "date", "quantity", "amount"])
tx["date"] = pd.to_datetime(tx["date"].astype(str), format="%Y%m%d")
s = summary_data_from_transaction_data(tx, "customer_id", "date", monetary_value_col="amount",
                                       observation_period_end=q["as_of"], freq="D")
s["recency"] /= 7.0
s["T"] /= 7.0
bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
repeat = s[s["frequency"] > 0]
gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
out = {"bgnbd": {k: float(v) for k, v in bg.params_.items()},
       "gamma_gamma": {k: float(v) for k, v in gg.params_.items()}, "customers": {}}
for c in q["customers"]:
    row = s.loc[[c]]
    f, r, t, m = row["frequency"], row["recency"], row["T"], row["monetary_value"]
    value = gg.conditional_expected_average_profit(f, m) if float(f.iloc[0]) > 0 else None
    clv = gg.customer_lifetime_value(bg, f, r, t, m, time=q["months"], discount_rate=q["discount"], freq="W")
    out["customers"][c] = {
        "p_alive": float(bg.conditional_probability_alive(f, r, t)[0]),
        "expected": float(bg.conditional_expected_number_of_purchases_up_to_time(q["horizon_weeks"], f, r, t).iloc[0]),
        "value": None if value is None else float(value.iloc[0]),
        "clv": float(clv.iloc[0]),
        "frequency": float(f.iloc[0]), "recency": float(r.iloc[0]), "T": float(t.iloc[0]),
        "monetary_value": float(m.iloc[0]),
    }
json.dump(out, sys.stdout)
