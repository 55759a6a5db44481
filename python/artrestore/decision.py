"""The learned decision: routing features in, a severity label and a restoration path out.

``LearnedDecision.decide(vector, pixels, profile="local", prefer="balanced", time_budget_s=None,
available=None)`` takes the 27 routing features (``analysis.ROUTING_FEATURE_NAMES`` order, as
``analysis.routing_vector`` gives them) and the image's pixel count, and returns a ``Decision``:
the severity (``light`` / ``moderate`` / ``severe``, from a classifier trained on the damage
model's severity), the path (``none`` = leave the image as it is, or a restorer method such as
``classical``, ``ml_guided``, ``deep_learning``), and per path the predicted gain (dB of PSNR over
the untouched input), the expected time (s) and the utility used to choose.

Rule: utility = predicted gain - cost x expected seconds, with ``cost`` (dB per second) and a
margin (dB) set by ``prefer`` (``quality``, ``balanced``, ``speed``; calibrated on training
outcomes, see ``training.decision_fit``). Do no harm: a path is a candidate only if its predicted
gain exceeds the margin; ``none`` (utility 0) wins when no path clears it. ``time_budget_s`` drops
paths whose expected time exceeds it. Expected time = a + b x megapixels per path and deployment
``profile`` (``local``: this machine's in-process CPU; ``accelerated``: the U-Net served from a GPU).
Time is charged at the size the costs were calibrated at, at most (metadata ``COST_REFERENCE_KEY``,
megapixels; absent: the image's own size): the calibration keeps each preference under a share of
always-U-Net's time, a share that does not depend on size, so a larger scan of the same picture gets
the same path instead of being left as it is; ``time_budget_s`` still weighs the real expected time.
Clean guard (optional, metadata ``clean_guard``): a third forest gives the probability that the
image is undamaged; at or above ``clean_guard["threshold"]`` the path is ``none`` whatever the
gains predict (a low-contrast scene reads as faded to the gain forests; ``training.clean_guard_fit``).
``views``: how many dihedral views the U-Net averages (``dl.ensemble``); a decision may carry, per
view count, its own gain forest, margins, costs and time models fitted on the outcomes of that
U-Net (metadata ``"views"``, arrays ``gain_x<N>_*``); a count it has none for uses the one-view ones.

Stored as ``decision.npz`` (plain arrays of the forests: gain, severity, the optional guard and any
per-view gain forests; read with ``allow_pickle=False``) beside ``model_metadata.json`` (format,
feature names, paths, classes, time models, profiles, SHA-256). The forests are evaluated by the C++
core (``_core.Forest``); loading never executes code. ``Decision.reason`` says why the path is
``none`` (one of ``LEFT_REASONS``).
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field

import numpy as np

from artrestore import _core
from artrestore._modelfile import load_arrays, model_folder, read_metadata, save_arrays
from artrestore.analysis import EXTRA_FEATURE_NAMES, FEATURE_NAMES, ROUTING_FEATURE_NAMES
from artrestore.router import flatten_forest
from artrestore.strategies import DECISIONS, DEFAULT_PREFERENCE, PREFERENCES

__all__ = ["LearnedDecision", "Decision", "BUNDLED_DECISION", "PREFERENCES", "PROFILES", "NONE", "DECISIONS",
           "GUARD_FOREST", "COST_REFERENCE_KEY", "LEFT_UNDAMAGED", "LEFT_NO_GAIN", "LEFT_NOT_WORTH_TIME",
           "LEFT_UNAVAILABLE", "LEFT_REASONS", "load_decision", "view_forest", "forest_names",
           "export_forest_arrays", "save_decision"]

BUNDLED_DECISION = pathlib.Path(__file__).resolve().parent / "models" / "decision"
FORMAT = "artrestore-decision/1"
NONE = "none"
PROFILES = ("local", "accelerated")
SEVERITY_CLASSES = ("light", "moderate", "severe")
_FOREST_ARRAYS = {"feature": (np.int32, 1), "threshold": (np.float64, 1), "left": (np.int32, 1),
                  "right": (np.int32, 1), "value": (np.float64, 2), "tree_roots": (np.int32, 1)}
_FORESTS = ("gain", "severity")
GUARD_FOREST = "clean"  # optional: P(undamaged), classes (damaged, undamaged)
LEFT_UNDAMAGED = "looks undamaged"  # Decision.reason when the clean guard leaves the image
LEFT_NO_GAIN = "no path is expected to gain more than its margin"
LEFT_NOT_WORTH_TIME = "no path's expected gain is worth its expected time"
LEFT_UNAVAILABLE = "the paths expected to gain are unavailable or over the time budget"
LEFT_REASONS = (LEFT_UNDAMAGED, LEFT_NO_GAIN, LEFT_NOT_WORTH_TIME, LEFT_UNAVAILABLE)
COST_REFERENCE_KEY = "cost_reference_mp"  # metadata: the largest image (MP) the costs were calibrated on


@dataclass(frozen=True)
class Decision:
    severity: str
    path: str
    gains_db: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    utility: dict = field(default_factory=dict)
    severity_probability: dict = field(default_factory=dict)
    damage_measures: dict = field(default_factory=dict)
    clean_probability: float | None = None  # the clean guard's P(undamaged); None: no guard
    reason: str = ""  # why the path is ``none`` (one of LEFT_REASONS); empty otherwise

    def as_dict(self) -> dict:
        out = {"severity": self.severity, "path": self.path,
               "predicted_gain_db": {k: round(v, 3) for k, v in self.gains_db.items()},
               "expected_s": {k: round(v, 4) for k, v in self.seconds.items()},
               "severity_probability": {k: round(v, 3) for k, v in self.severity_probability.items()},
               "damage_measures": self.damage_measures}
        if self.clean_probability is not None:
            out["clean_probability"] = round(self.clean_probability, 3)
        if self.reason:
            out["reason"] = self.reason
        return out


def forest_names(metadata: dict) -> tuple[str, ...]:
    """The array prefixes a decision with this metadata stores."""
    guard = (GUARD_FOREST,) if metadata.get("clean_guard") else ()
    return (*_FORESTS, *guard, *(view_forest(int(v)) for v in metadata.get("views", {})))


def _forest(arrays: dict, prefix: str, n_outputs: int) -> "_core.Forest":
    a = {name: arrays[f"{prefix}_{name}"] for name in _FOREST_ARRAYS}
    if a["value"].shape != (a["feature"].shape[0], n_outputs):
        raise ValueError(f"decision: {prefix} forest values must be (n_nodes, {n_outputs})")
    return _core.Forest(a["feature"], a["threshold"], a["left"], a["right"], a["value"], a["tree_roots"],
                        len(ROUTING_FEATURE_NAMES))


class LearnedDecision:
    """Gain regressor + severity classifier (forests as plain arrays) and the choice rule."""

    def __init__(self, arrays: dict[str, np.ndarray], metadata: dict):
        self.metadata = metadata
        self.paths: tuple[str, ...] = tuple(metadata["paths"])
        if not self.paths or NONE in self.paths:
            raise ValueError("decision: 'paths' must list the restoring paths ('none' is implicit)")
        self.classes: tuple[str, ...] = tuple(metadata.get("severity_classes", SEVERITY_CLASSES))
        self._severity = _forest(arrays, "severity", len(self.classes))
        # Per U-Net view count: (gain forest, margins, costs, time models); 1 is the top level.
        self._by_views = {1: self._calibration(arrays, "gain", metadata)}
        for views, entry in metadata.get("views", {}).items():
            self._by_views[int(views)] = self._calibration(arrays, view_forest(int(views)), entry)
        _, self.margins, self.costs, self.time_models = self._by_views[1]
        reference = metadata.get(COST_REFERENCE_KEY)
        if reference is not None and not (np.isfinite(reference) and reference > 0):
            raise ValueError(f"decision: {COST_REFERENCE_KEY} must be a positive number of megapixels, got {reference!r}")
        self.cost_reference_pixels = None if reference is None else float(reference) * 1e6
        self._clean, self.clean_threshold = None, None
        if metadata.get("clean_guard"):
            threshold = float(metadata["clean_guard"]["threshold"])
            if not 0.0 < threshold <= 1.0:
                raise ValueError(f"decision: clean_guard threshold must be in (0, 1], got {threshold}")
            self._clean, self.clean_threshold = _forest(arrays, GUARD_FOREST, 2), threshold

    def _calibration(self, arrays, prefix: str, entry: dict) -> tuple:
        margins = {p: float(entry["margin_db"][p]) for p in PREFERENCES}
        costs = {p: float(entry["cost_db_per_s"][p]) for p in PREFERENCES}
        time_models = {profile: {path: tuple(map(float, entry["time_model"][profile][path])) for path in self.paths}
                       for profile in PROFILES}
        return _forest(arrays, prefix, len(self.paths)), margins, costs, time_models

    def with_rule(self, prefer: str, *, margin_db: float | None = None,
                  cost_db_per_s: float | None = None) -> "LearnedDecision":
        """A copy whose ``prefer`` margin (dB) and / or cost (dB per second) are replaced, for every
        U-Net view count; the forests are shared, nothing else changes (a user's own trade-off, or
        a sweep over the rule's settings)."""
        import copy

        if prefer not in PREFERENCES:
            raise ValueError(f"prefer must be one of {PREFERENCES}, got {prefer!r}")
        for name, value in (("margin_db", margin_db), ("cost_db_per_s", cost_db_per_s)):
            if value is not None and not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        other = copy.copy(self)
        other._by_views = {}
        for views, (forest, margins, costs, times) in self._by_views.items():
            margins = {**margins, prefer: float(margin_db)} if margin_db is not None else margins
            costs = {**costs, prefer: float(cost_db_per_s)} if cost_db_per_s is not None else costs
            other._by_views[views] = (forest, margins, costs, times)
        _, other.margins, other.costs, _ = other._by_views[1]
        return other

    @property
    def view_counts(self) -> tuple[int, ...]:
        """The U-Net view counts this decision has its own calibration for (1 always)."""
        return tuple(sorted(self._by_views))

    def _for_views(self, views: int) -> tuple:
        return self._by_views.get(int(views), self._by_views[1])

    @classmethod
    def load(cls, path=None) -> "LearnedDecision":
        """Load a decision folder (``decision.npz`` + ``model_metadata.json``); None: the bundled one."""
        folder = model_folder(path, BUNDLED_DECISION)
        arrays_path = folder / "decision.npz"
        metadata = read_metadata(folder, FORMAT, "decision")
        if metadata.get("feature_names") != list(ROUTING_FEATURE_NAMES):
            raise ValueError("decision: model was trained on other features")
        schema = {f"{f}_{a}": spec for f in forest_names(metadata) for a, spec in _FOREST_ARRAYS.items()}
        arrays = load_arrays(arrays_path, schema, "decision", metadata.get("arrays_sha256"))
        try:
            return cls(arrays, metadata)
        except (KeyError, TypeError) as error:
            raise ValueError(f"decision: metadata is missing or malformed: {error}") from None

    # --------------------------------------------------------------------------------- predict
    def predict_gains(self, vectors: np.ndarray, views: int = 1) -> np.ndarray:
        """(n, n_paths) predicted PSNR gain over the input, dB, for (n, 27) routing features, with
        the U-Net averaging ``views`` views."""
        return self._for_views(views)[0].predict(np.atleast_2d(np.asarray(vectors, np.float32)))

    def predict_severity_proba(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities of light / moderate / severe."""
        return self._severity.predict(np.atleast_2d(np.asarray(vectors, np.float32)))

    def predict_clean_proba(self, vectors: np.ndarray) -> np.ndarray | None:
        """(n,) probability that each image is undamaged (the clean guard), or None without one."""
        if self._clean is None:
            return None
        return self._clean.predict(np.atleast_2d(np.asarray(vectors, np.float32)))[:, 1]

    def expected_seconds(self, pixels: int, profile: str = "local", views: int = 1) -> dict[str, float]:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
        mp = pixels / 1e6
        return {p: max(0.0, a + b * mp) for p, (a, b) in self._for_views(views)[3][profile].items()}

    def choose(self, gains: dict[str, float], seconds: dict[str, float], prefer: str = DEFAULT_PREFERENCE,
               time_budget_s: float | None = None, available=None, views: int = 1,
               charged_seconds: dict[str, float] | None = None) -> tuple[str, dict]:
        """The path of highest utility among those that clear the margin (``none`` otherwise);
        ``charged_seconds`` (default ``seconds``) are the times the cost weighs, ``seconds`` those the
        time budget does."""
        if prefer not in PREFERENCES:
            raise ValueError(f"prefer must be one of {PREFERENCES}, got {prefer!r}")
        if time_budget_s is not None and not time_budget_s > 0:
            raise ValueError(f"time_budget_s must be positive, got {time_budget_s!r}")
        _, margins, costs, _ = self._for_views(views)
        cost, margin = costs[prefer], margins[prefer]
        charged = seconds if charged_seconds is None else charged_seconds
        utility = {p: gains[p] - cost * charged[p] for p in self.paths}
        best, best_utility = NONE, 0.0
        for p in self.paths:
            if available is not None and p not in available:
                continue
            if time_budget_s is not None and seconds[p] > time_budget_s:
                continue
            if gains[p] > margin and utility[p] > best_utility:
                best, best_utility = p, utility[p]
        return best, utility

    def _why_none(self, gains: dict, utility: dict, prefer: str, views: int) -> str:
        """Why ``choose`` took no path: none cleared the margin, none that did was worth its time,
        or those that were are unavailable or over the time budget (``choose``'s filters)."""
        margin = self._for_views(views)[1][prefer]
        cleared = [p for p in self.paths if gains[p] > margin]
        if not cleared:
            return LEFT_NO_GAIN
        return LEFT_UNAVAILABLE if any(utility[p] > 0 for p in cleared) else LEFT_NOT_WORTH_TIME

    def decide(self, vector: np.ndarray, pixels: int, *, profile: str = "local", prefer: str = DEFAULT_PREFERENCE,
               time_budget_s: float | None = None, available=None, views: int = 1) -> Decision:
        x = np.asarray(vector, np.float32).reshape(1, -1)
        if x.shape[1] != len(ROUTING_FEATURE_NAMES):
            raise ValueError(f"decision: expected {len(ROUTING_FEATURE_NAMES)} routing features, got {x.shape[1]}")
        gains = dict(zip(self.paths, map(float, self.predict_gains(x, views)[0])))
        proba = self.predict_severity_proba(x)[0]
        seconds = self.expected_seconds(pixels, profile, views)
        charged = seconds
        if self.cost_reference_pixels is not None and pixels > self.cost_reference_pixels:
            charged = self.expected_seconds(self.cost_reference_pixels, profile, views)
        path, utility = self.choose(gains, seconds, prefer, time_budget_s, available, views, charged)
        clean = self.predict_clean_proba(x)
        clean = None if clean is None else float(clean[0])
        reason = self._why_none(gains, utility, prefer, views) if path == NONE else ""
        if clean is not None and clean >= self.clean_threshold:
            path, reason = NONE, LEFT_UNDAMAGED  # leave it as it is, whatever the gains predict
        return Decision(severity=self.classes[int(np.argmax(proba))], path=path, gains_db=gains, seconds=seconds,
                        utility=utility, severity_probability=dict(zip(self.classes, map(float, proba))),
                        damage_measures=dict(zip(EXTRA_FEATURE_NAMES, map(float, x[0, len(FEATURE_NAMES):]))),
                        clean_probability=clean, reason=reason)


def view_forest(views: int) -> str:
    """The array prefix of the gain forest fitted for a U-Net averaging ``views`` views."""
    return "gain" if views == 1 else f"gain_x{views}"


def load_decision(decision: str = "learned", path=None, *, prefer: str = DEFAULT_PREFERENCE,
                  time_budget_s: float | None = None) -> LearnedDecision | None:
    """The learned decision for ``decision="learned"`` (``path``: a folder, None: bundled), None for
    ``"rule"``; ``prefer`` and ``time_budget_s`` are checked now, not at the first image."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
    if decision == "rule":
        return None
    learned = LearnedDecision.load(path)
    zeros = dict.fromkeys(learned.paths, 0.0)
    learned.choose(zeros, zeros, prefer, time_budget_s)  # raises ValueError naming a bad value
    return learned


def export_forest_arrays(forest, prefix: str, normalise_leaves: bool = False) -> dict[str, np.ndarray]:
    """``router.flatten_forest``'s arrays, named ``<prefix>_<array>`` for ``decision.npz``."""
    return {f"{prefix}_{k}": v for k, v in flatten_forest(forest, normalise_leaves).items()}


def save_decision(folder, arrays: dict[str, np.ndarray], metadata: dict) -> pathlib.Path:
    """Write ``decision.npz`` and ``model_metadata.json`` (with the arrays' SHA-256) into ``folder``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays_path = folder / "decision.npz"
    names = [f"{f}_{a}" for f in forest_names(metadata) for a in _FOREST_ARRAYS]
    digest = save_arrays(arrays_path, {k: arrays[k] for k in names})
    metadata = {**metadata, "format": FORMAT, "feature_names": list(ROUTING_FEATURE_NAMES),
                "arrays_sha256": digest}
    (folder / "model_metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return folder
