"""Customer lifetime value: what a customer has bought, and what they will likely buy.

Historical value is orders plus won deals that never became an order (a won deal and the
order it turned into are one purchase, counted once). Projected value is the published
BG/NBD model for the number of future purchases (Fader, Hardie & Lee 2005, "Counting
your customers the easy way", Marketing Science 24(2)) times the Gamma-Gamma model for
their value (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4); Hardie's note 025),
both fitted by maximum likelihood over every customer (the population), with monthly
discounting. Where the data is too thin for those fits, a documented run-rate estimator
is used instead, and every answer names the model and the inputs it used.

Why our own implementation: `lifetimes` (the reference implementation) has had no
release since 2020 and pulls pandas and autograd; PyMC-Marketing is maintained but
brings PyMC, PyTensor, numba, arviz and matplotlib (35 packages) for what are two
closed-form likelihoods. These are a few lines of scipy, checked against the published
CDNOW parameters in tests/test_value.py.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import sqlalchemy as sa
from pydantic import BaseModel
from scipy import optimize, special
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, account_scope, may_see
from crmassist.crm.errors import AccessDenied
from crmassist.domain.enums import Stage
from crmassist.domain.models import Account, Opportunity, Order

WEEK_DAYS = 7.0
WEEKS_PER_MONTH = 365.25 / 12 / WEEK_DAYS
DEAL_TO_ORDER = timedelta(days=90)
"""A won deal and an order of the same amount within this of its close date are one sale."""
MIN_CUSTOMERS = 20
MIN_REPEATERS = 8
"""Fewer customers, or fewer with a repeat purchase, and a fit says more about chance
than about the customers: the run-rate estimator answers instead."""
MIN_SPEND_REPEATERS = 8
"""Gamma-Gamma is fitted per currency; below this many repeat buyers in a currency the
customer's own average purchase is used."""


# --- the models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbd:
    """BG/NBD: purchases while alive follow Poisson(λ), λ ~ Gamma(r, α); after each
    purchase the customer drops out with probability p, p ~ Beta(a, b). Time in weeks."""

    r: float
    alpha: float
    a: float
    b: float

    @staticmethod
    def log_likelihood(
        params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Per-customer log-likelihood (FHL 2005, eq. 6, in the numerically stable form)."""
        r, alpha, a, b = params
        a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        a2 = (
            special.gammaln(a + b)
            + special.gammaln(b + x)
            - special.gammaln(b)
            - special.gammaln(a + b + x)
        )
        a3 = -(r + x) * np.log(alpha + T)
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
        return np.asarray(a1 + a2 + np.logaddexp(a3, a4))

    @classmethod
    def fit(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
        params = _maximise(lambda p: float(cls.log_likelihood(p, x, t_x, T).sum()), 4)
        return cls(*params)

    def _dropout_odds(self, x: float, t_x: float, T: float) -> float:
        """δ(x>0)·a/(b+x-1)·((α+T)/(α+t_x))^(r+x): the odds the customer is gone."""
        if x == 0:
            return 0.0
        ratio = (self.alpha + T) / (self.alpha + t_x)
        return self.a / (self.b + x - 1) * ratio ** (self.r + x)

    def p_alive(self, x: float, t_x: float, T: float) -> float:
        return 1.0 / (1.0 + self._dropout_odds(x, t_x, T))

    def expected_purchases(self, t: float, x: float, t_x: float, T: float) -> float:
        """E[Y(t) | x, t_x, T]: purchases in the next t weeks (FHL 2005, eq. 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        return float(head * body / (1 + self._dropout_odds(x, t_x, T)))


@dataclass(frozen=True)
class GammaGamma:
    """Gamma-Gamma: a customer's purchase values are Gamma(p, ν), ν ~ Gamma(q, γ)."""

    p: float
    q: float
    gamma: float

    @staticmethod
    def log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood of the mean value m of x repeat purchases."""
        p, q, g = params
        return np.asarray(
            special.gammaln(p * x + q)
            - special.gammaln(p * x)
            - special.gammaln(q)
            + q * np.log(g)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(g + m * x)
        )

    @classmethod
    def fit(cls, x: np.ndarray, m: np.ndarray) -> GammaGamma:
        return cls(*_maximise(lambda p: float(cls.log_likelihood(p, x, m).sum()), 3))

    def expected_value(self, x: float, m: float) -> float:
        """E[M | x, m]: a weighted mean of the population's and the customer's own."""
        return (self.gamma + m * x) * self.p / (self.p * x + self.q - 1)


LOG_BOUND = 7.0
"""Parameters are fitted within e^-7..e^7 (0.0009..1097); a fit that runs into a bound
says the data does not identify the model (e.g. nobody ever drops out, or every customer
spends alike), and the simpler estimator answers instead."""


def _maximise(log_likelihood: Callable[[np.ndarray], float], n: int) -> list[float]:
    """Maximum likelihood over positive parameters (optimised on their logarithms)."""

    def loss(log_params: np.ndarray) -> float:
        value = float(log_likelihood(np.exp(log_params)))
        return -value if math.isfinite(value) else 1e300

    bounds = [(-LOG_BOUND, LOG_BOUND)] * n
    result = optimize.minimize(loss, np.zeros(n), method="L-BFGS-B", bounds=bounds)
    if not result.success:
        raise FitFailed(str(result.message))
    if np.any(np.abs(result.x) > LOG_BOUND - 0.01):
        raise FitFailed("a parameter ran into its bound: the data does not identify the model")
    return [float(v) for v in np.exp(result.x)]


class FitFailed(ValueError):
    """The likelihood did not converge: the data cannot carry the model."""


# --- the answer ------------------------------------------------------------------------------


class ValueInputs(BaseModel):
    purchases: int
    repeat_purchases: int
    first_purchase: date | None
    last_purchase: date | None
    weeks_observed: float
    weeks_to_last_purchase: float
    average_repeat_value: float | None


class CustomerValue(BaseModel):
    account_id: str
    account_name: str
    currency: str
    historical_value: float
    orders_value: float
    won_deals_value: float
    """Won deals no order accounts for (counted in the historical value)."""
    other_currencies: dict[str, float]
    """Historical value in other currencies: listed, never converted, not projected."""
    projected_value: float
    expected_purchases: float
    expected_purchase_value: float
    probability_alive: float | None
    horizon_months: int
    model: str
    inputs: ValueInputs
    explanation: str


class ValueReport(BaseModel):
    as_of: date
    horizon_months: int
    annual_discount_rate: float
    frequency_model: str
    """BG/NBD with its fitted parameters and population, or why the run-rate answers."""
    spend_models: dict[str, str]
    values: list[CustomerValue]


@dataclass
class _Purchases:
    name: str
    days: dict[date, Decimal]
    currency: str
    orders: dict[str, Decimal]
    won: dict[str, Decimal]


def customer_values(
    session: Session,
    principal: Principal,
    today: date,
    account_id: str | None = None,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
) -> ValueReport:
    """Value of visible customers (or one), highest projected value first."""
    if not may_see(principal, Section.ORDERS):
        raise AccessDenied("your role may not see orders, so no customer value")
    facts = _purchases(session, today)
    frequency, frequency_model = _frequency_model(facts, today)
    spend, spend_models = _spend_models(facts)
    visible = set(session.scalars(sa.select(Account.id).where(account_scope(principal))))
    wanted = [account_id] if account_id else sorted(visible)
    values = [
        _value(
            aid,
            facts[aid],
            today,
            frequency,
            frequency_model,
            spend.get(facts[aid].currency),
            horizon_months,
            annual_discount_rate,
        )
        for aid in wanted
        if aid in visible and aid in facts
    ]
    return ValueReport(
        as_of=today,
        horizon_months=horizon_months,
        annual_discount_rate=annual_discount_rate,
        frequency_model=frequency_model,
        spend_models=spend_models,
        values=sorted(
            values, key=lambda v: (-v.projected_value, -v.historical_value, v.account_id)
        ),
    )


def _purchases(session: Session, today: date) -> dict[str, _Purchases]:
    """Per account: purchase days and amounts in its main currency (that of its latest
    purchase); a won deal that an order of the same amount followed is not counted twice."""
    facts = {
        aid: _Purchases(name, {}, "", {}, {})
        for aid, name in session.execute(sa.select(Account.id, Account.name))
    }
    orders = session.execute(
        sa.select(Order.account_id, Order.order_date, Order.amount, Order.currency)
        .where(Order.order_date <= today)
        .order_by(Order.order_date, Order.id)
    ).all()
    wins = session.execute(
        sa.select(
            Opportunity.account_id, Opportunity.close_date, Opportunity.amount, Opportunity.currency
        )
        .where(Opportunity.stage == Stage.CLOSED_WON, Opportunity.close_date <= today)
        .order_by(Opportunity.close_date, Opportunity.id)
    ).all()
    by_amount: dict[tuple[str, str, Decimal], list[date]] = defaultdict(list)
    events: list[tuple[str, date, Decimal, str, str]] = []
    for aid, day, amount, currency in orders:
        by_amount[(aid, currency, amount)].append(day)
        events.append((aid, day, amount, currency, "orders"))
    for aid, close, amount, currency in wins:
        if close is None:
            continue
        closed: date = close
        same = by_amount[(aid, currency, amount)]
        matched = [d for d in same if abs(d - closed) <= DEAL_TO_ORDER]
        if matched:
            by_amount[(aid, currency, amount)].remove(matched[0])
            continue
        events.append((aid, closed, amount, currency, "won"))
    for aid, _day, _, currency, _ in sorted(events, key=lambda e: e[1]):
        facts[aid].currency = currency
    for aid, day, amount, currency, kind in events:
        history = facts[aid]
        totals = history.orders if kind == "orders" else history.won
        totals[currency] = totals.get(currency, Decimal(0)) + amount
        if currency == history.currency:
            history.days[day] = history.days.get(day, Decimal(0)) + amount
    return {aid: h for aid, h in facts.items() if h.days}


def _rfm(h: _Purchases, today: date) -> tuple[int, float, float, float | None]:
    """(x repeat purchases, t_x, T in weeks, mean repeat value) as BG/NBD reads them."""
    days = sorted(h.days)
    first = days[0]
    repeat = [float(h.days[d]) for d in days[1:]]
    t_x = (days[-1] - first).days / WEEK_DAYS
    weeks = (today - first).days / WEEK_DAYS
    return len(repeat), t_x, weeks, (sum(repeat) / len(repeat) if repeat else None)


def _frequency_model(facts: dict[str, _Purchases], today: date) -> tuple[BgNbd | None, str]:
    rfm = [_rfm(h, today) for h in facts.values()]
    rfm = [row for row in rfm if row[2] > 0]
    repeaters = sum(1 for x, *_ in rfm if x > 0)
    if len(rfm) < MIN_CUSTOMERS or repeaters < MIN_REPEATERS:
        return None, (
            f"run-rate (too few customers for BG/NBD: {len(rfm)} customers, {repeaters} with "
            f"a repeat purchase; it needs {MIN_CUSTOMERS} and {MIN_REPEATERS})"
        )
    x, t_x, weeks = (np.array([row[i] for row in rfm], dtype=float) for i in range(3))
    try:
        model = BgNbd.fit(x, t_x, weeks)
    except FitFailed as exc:
        return None, f"run-rate (BG/NBD does not fit this data: {exc})"
    return model, (
        f"BG/NBD fitted on {len(rfm)} customers ({repeaters} repeat buyers): "
        f"r={model.r:.3f}, alpha={model.alpha:.3f} weeks, a={model.a:.3f}, b={model.b:.3f}"
    )


def _spend_models(facts: dict[str, _Purchases]) -> tuple[dict[str, GammaGamma], dict[str, str]]:
    by_currency: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for h in facts.values():
        x, _, _, mean = _rfm(h, date.max)
        if x > 0 and mean and mean > 0:
            by_currency[h.currency].append((x, mean))
    models, described = {}, {}
    for currency, rows in sorted(by_currency.items()):
        if len(rows) < MIN_SPEND_REPEATERS:
            described[currency] = (
                f"the customer's own average purchase ({len(rows)} repeat buyers in "
                f"{currency}; Gamma-Gamma needs {MIN_SPEND_REPEATERS})"
            )
            continue
        counts = np.array([r[0] for r in rows], float)
        means = np.array([r[1] for r in rows], float)
        try:
            model = GammaGamma.fit(counts, means)
        except FitFailed as exc:
            described[currency] = f"the customer's own average purchase (Gamma-Gamma: {exc})"
            continue
        if model.q <= 1:
            described[currency] = "the customer's own average purchase (Gamma-Gamma q <= 1)"
            continue
        models[currency] = model
        described[currency] = (
            f"Gamma-Gamma fitted on {len(rows)} repeat buyers in {currency}: "
            f"p={model.p:.3f}, q={model.q:.3f}, gamma={model.gamma:.2f}"
        )
    return models, described


def _value(
    account_id: str,
    h: _Purchases,
    today: date,
    frequency: BgNbd | None,
    frequency_model: str,
    spend: GammaGamma | None,
    months: int,
    annual_rate: float,
) -> CustomerValue:
    x, t_x, weeks, mean = _rfm(h, today)
    days = sorted(h.days)
    average = mean if mean is not None else float(h.days[days[0]])
    per_purchase = spend.expected_value(x, mean) if spend and mean else average
    monthly = (1 + annual_rate) ** (1 / 12) - 1
    if frequency is not None and weeks > 0:
        curve = [
            frequency.expected_purchases(m * WEEKS_PER_MONTH, x, t_x, weeks)
            for m in range(months + 1)
        ]
        alive: float | None = frequency.p_alive(x, t_x, weeks)
    else:
        curve = _run_rate_curve(days, today, months)
        alive = None
    model = (
        ("BG/NBD" if alive is not None else "run-rate")
        + " + "
        + ("Gamma-Gamma" if spend and mean else "own average purchase")
    )
    projected = sum(
        (curve[m] - curve[m - 1]) * per_purchase / (1 + monthly) ** m for m in range(1, months + 1)
    )
    orders, won = h.orders.get(h.currency, Decimal(0)), h.won.get(h.currency, Decimal(0))
    others = {
        c: float(h.orders.get(c, 0) + h.won.get(c, 0))
        for c in sorted(set(h.orders) | set(h.won))
        if c != h.currency
    }
    inputs = ValueInputs(
        purchases=len(days),
        repeat_purchases=x,
        first_purchase=days[0],
        last_purchase=days[-1],
        weeks_observed=round(weeks, 1),
        weeks_to_last_purchase=round(t_x, 1),
        average_repeat_value=round(mean, 2) if mean is not None else None,
    )
    return CustomerValue(
        account_id=account_id,
        account_name=h.name,
        currency=h.currency,
        historical_value=float(orders + won),
        orders_value=float(orders),
        won_deals_value=float(won),
        other_currencies=others,
        projected_value=round(projected, 2),
        expected_purchases=round(curve[months], 2),
        expected_purchase_value=round(per_purchase, 2),
        probability_alive=round(alive, 3) if alive is not None else None,
        horizon_months=months,
        model=model,
        inputs=inputs,
        explanation=_explain(
            h, x, days, today, curve[months], per_purchase, alive, months, model, frequency_model
        ),
    )


def _run_rate_curve(days: list[date], today: date, months: int) -> list[float]:
    """Cumulative expected purchases per month: one every median gap between purchases,
    while the last purchase is no older than twice that gap; none with a single purchase."""
    if len(days) < 2:
        return [0.0] * (months + 1)
    gaps = sorted((b - a).days for a, b in itertools.pairwise(days))
    usual = max(gaps[len(gaps) // 2], 1)
    if (today - days[-1]).days > 2 * usual:
        return [0.0] * (months + 1)
    per_month = 365.25 / 12 / usual
    return [per_month * m for m in range(months + 1)]


def _explain(
    h: _Purchases,
    x: int,
    days: list[date],
    today: date,
    purchases: float,
    per_purchase: float,
    alive: float | None,
    months: int,
    model: str,
    frequency_model: str,
) -> str:
    since = (today - days[-1]).days
    alive_text = f", P(still a customer) {alive:.0%}" if alive is not None else ""
    return (
        f"{len(days)} purchase day(s) since {days[0]}, the last {since} days ago{alive_text}; "
        f"about {purchases:.1f} more in {months} months at {per_purchase:,.2f} {h.currency} "
        f"each ({model}; frequency: {frequency_model})"
    )
