"""The county as GeoJSON, generated from the seed's gazetteer: the map of the dispatch console
draws it with no tile server (it works offline, and shows only what the project knows).

``python -m seed.geojson`` writes marketplace/static/geo/county.geojson (committed);
``python -m seed.geojson --check`` fails when the committed file is not what the gazetteer gives.

What is drawn, all in WGS-84 degrees:

- the county's outline: the convex hull of its towns and villages, pushed out from its centre
  a little (the gazetteer has no boundary; this is a sketch, not a survey);
- roads between towns: the relative neighbourhood graph of the towns (two towns are joined
  when no third town is nearer to both of them), a planar, connected network that looks like
  valley roads and contains the shortest tree that joins every town; the gazetteer has no road
  graph, so these are straight lines, as the planner's own haversine distances are;
- lanes from each town to each of its villages;
- towns, villages, middle warehouses and cooperatives as points, with their codes and names in
  both languages.

The output is deterministic (sorted, rounded to 5 decimals, one feature per line), so a change
of the gazetteer shows as a small diff.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from seed import data

OUTPUT = Path(__file__).resolve().parent.parent / "marketplace" / "static" / "geo" / "county.geojson"
OUTLINE_MARGIN = 0.06  # the outline sits this share further out than the outermost places
EARTH_RADIUS_M = 6_371_000


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance between two (lat, lon) points in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _point(lat: float, lon: float) -> list[float]:
    return [round(lon, 5), round(lat, 5)]  # GeoJSON order: longitude first


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (monotone chain) of (x, y) points, counter-clockwise, not closed."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def town_roads(towns: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of town codes joined by a road: the relative neighbourhood graph (towns a and b are
    joined unless some town c is nearer to both a and b than they are to each other)."""
    where = {t["code"]: (t["lat"], t["lon"]) for t in towns}
    codes = sorted(where)
    roads = []
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            ab = _distance_m(where[a], where[b])
            if not any(max(_distance_m(where[a], where[c]), _distance_m(where[b], where[c])) < ab
                       for c in codes if c not in (a, b)):
                roads.append((a, b))
    return roads


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def features() -> list[dict[str, Any]]:
    towns = sorted(data.TOWNS, key=lambda t: t["code"])
    villages = sorted(data.VILLAGES, key=lambda v: v["code"])
    town_at = {t["code"]: t for t in towns}
    village_at = {v["code"]: v for v in villages}
    out: list[dict[str, Any]] = []

    # the outline: hull of every place, pushed out from the county seat's side of the centre
    places = [(p["lon"], p["lat"]) for p in (*towns, *villages)]
    cx = sum(x for x, _ in places) / len(places)
    cy = sum(y for _, y in places) / len(places)
    ring = [[round(cx + (x - cx) * (1 + OUTLINE_MARGIN), 5), round(cy + (y - cy) * (1 + OUTLINE_MARGIN), 5)]
            for x, y in _hull(places)]
    ring.append(ring[0])
    out.append(_feature({"type": "Polygon", "coordinates": [ring]}, kind="county", code=data.COUNTY["code"],
                        name_zh=data.COUNTY["name_zh"], name_en=data.COUNTY["name_en"]))

    for a, b in town_roads(towns):
        ta, tb = town_at[a], town_at[b]
        out.append(_feature({"type": "LineString", "coordinates": [_point(ta["lat"], ta["lon"]), _point(tb["lat"], tb["lon"])]},
                            kind="road", code=f"{a}-{b}",
                            length_m=int(round(_distance_m((ta["lat"], ta["lon"]), (tb["lat"], tb["lon"]))))))
    for v in villages:
        t = town_at[v["town"]]
        if (round(t["lat"], 5), round(t["lon"], 5)) == (round(v["lat"], 5), round(v["lon"], 5)):
            continue  # the town's seat is the town
        out.append(_feature({"type": "LineString", "coordinates": [_point(t["lat"], t["lon"]), _point(v["lat"], v["lon"])]},
                            kind="lane", code=f"{t['code']}-{v['code']}"))

    for t in towns:
        out.append(_feature({"type": "Point", "coordinates": _point(t["lat"], t["lon"])}, kind="town", code=t["code"],
                            name_zh=t["name_zh"], name_en=t["name_en"], zone=t["zone"]))
    for v in villages:
        out.append(_feature({"type": "Point", "coordinates": _point(v["lat"], v["lon"])}, kind="village",
                            code=v["code"], name_zh=v["name_zh"], name_en=v["name_en"], town=v["town"],
                            zone=v["zone"]))
    for w in sorted(data.WAREHOUSES, key=lambda w: w["code"]):
        out.append(_feature({"type": "Point", "coordinates": _point(w["lat"], w["lon"])}, kind="warehouse",
                            code=w["code"], name_zh=w["name_zh"], name_en=w["name_en"]))
    for c in sorted(data.COOPERATIVES, key=lambda c: c["code"]):
        v = village_at[c["village"]]  # a cooperative's site is its village (as the seed loads it)
        out.append(_feature({"type": "Point", "coordinates": _point(v["lat"], v["lon"])}, kind="cooperative",
                            code=c["code"], name_zh=c["name_zh"], name_en=c["name_en"], village=v["code"]))
    return out


def generate() -> str:
    """The county's GeoJSON text: a FeatureCollection, one feature per line."""
    lines = [json.dumps(f, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for f in features()]
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed.geojson", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed file is current")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        print(f"{args.output}: {'current' if current == text else 'stale (run python -m seed.geojson)'}")
        return 0 if current == text else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output}: {len(text.splitlines()) - 2} features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
