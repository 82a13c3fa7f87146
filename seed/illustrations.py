"""Drawn illustrations of the demo county's products, made with Pillow from simple shapes (no
downloaded picture: the project ships them under its own licence).

Each product gets two pictures: the goods themselves (on a tray, a plate or the table) and its
packaging (pouch, tin, bottle, gift box, sack…). What is drawn comes from the product's SKU
(:data:`KINDS`), every random choice from a generator seeded by the SKU, so the same product
always gets the same pictures.

    python -m seed.illustrations OUT_DIR      # writes <SKU>-1.jpg and <SKU>-2.jpg for every product
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = 800  # pixels of the finished picture (square)
SOFT = 4  # shadows and highlights are drawn this many times smaller (they are blurred anyway)
SCALE = 2  # drawn this many times larger, then reduced: smooth edges without an anti-aliasing pass
QUALITY = 86
#: bump when the drawings change: demo photos are stored under a key made from it and the SKU
VERSION = 1
#: the part of the drawing (percent: left, top, right, bottom) that becomes the picture
FRAME = (9.0, 15.0, 91.0, 97.0)
#: the drawing's side in pixels: FRAME of it is SCALE times the picture
DRAWN = round(SIZE * SCALE * 100 / (FRAME[2] - FRAME[0]))

Colour = tuple[int, int, int]
Box = tuple[float, float, float, float]  # left, top, right, bottom


def mix(a: Colour, b: Colour, t: float) -> Colour:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def light(c: Colour, t: float = 0.3) -> Colour:
    return mix(c, (255, 255, 255), t)


def dark(c: Colour, t: float = 0.3) -> Colour:
    return mix(c, (0, 0, 0), t)


def vary(rng: random.Random, c: Colour, amount: int = 14) -> Colour:
    return tuple(max(0, min(255, v + rng.randint(-amount, amount))) for v in c)  # type: ignore[return-value]


class Canvas:
    """A square picture in percent coordinates (0-100 on both axes): a background, soft shadows
    under things, the things, and soft highlights on them."""

    def __init__(self, rng: random.Random, size: int = DRAWN) -> None:
        self.rng = rng
        self.px = size
        self.k = size / 100
        self.base = Image.new("RGB", (size, size))
        self.layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        # shadows and highlights are soft: drawn at a quarter of the size, blurred, scaled up
        self.soft_k = self.k / SOFT
        self.shade = Image.new("L", (size // SOFT, size // SOFT), 0)
        self.gloss = Image.new("LA", (size // SOFT, size // SOFT), (255, 0))
        self.d = ImageDraw.Draw(self.layer)
        self._s = ImageDraw.Draw(self.shade)
        self._g = ImageDraw.Draw(self.gloss)

    # --- coordinates -------------------------------------------------------------------------
    def p(self, *values: float) -> list[float]:
        return [v * self.k for v in values]

    def pts(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * self.k, y * self.k) for x, y in points]

    # --- background --------------------------------------------------------------------------
    def backdrop(self, wall: Colour, table: Colour, horizon: float = 62, planks: bool = True) -> None:
        gradient = Image.linear_gradient("L").resize((self.px, self.px), Image.Resampling.BILINEAR)
        top = Image.new("RGB", (self.px, self.px), light(wall, 0.25))
        self.base = Image.composite(Image.new("RGB", (self.px, self.px), dark(wall, 0.06)), top, gradient)
        draw = ImageDraw.Draw(self.base)
        y0 = horizon * self.k
        draw.rectangle([0, y0, self.px, self.px], fill=table)
        if planks:
            y = y0
            while y < self.px:
                h = self.rng.uniform(9, 14) * self.k
                shade = self.rng.uniform(-0.06, 0.06)
                draw.rectangle([0, y, self.px, y + h], fill=light(table, shade) if shade > 0 else dark(table, -shade))
                draw.line([0, y, self.px, y], fill=dark(table, 0.18), width=max(1, int(self.k * 0.25)))
                for _ in range(3):  # wood grain
                    gy = y + self.rng.uniform(0.2, 0.9) * h
                    draw.line([self.rng.uniform(0, 60) * self.k, gy, self.rng.uniform(40, 100) * self.k, gy],
                              fill=dark(table, 0.07), width=max(1, int(self.k * 0.15)))
                y += h
        draw.rectangle([0, y0, self.px, y0 + 0.6 * self.k], fill=light(table, 0.25))

    # --- shadows and highlights --------------------------------------------------------------
    def _soft_box(self, box: tuple[float, float, float, float]) -> list[float]:
        return [v * self.soft_k for v in box]

    def shadow(self, cx: float, cy: float, rx: float, ry: float, strength: int = 90) -> None:
        self._s.ellipse(self._soft_box((cx - rx, cy - ry, cx + rx, cy + ry)), fill=strength)

    def shine(self, box: tuple[float, float, float, float], alpha: int = 110) -> None:
        self._g.ellipse(self._soft_box(box), fill=(255, alpha))

    def shine_rect(self, box: tuple[float, float, float, float], alpha: int = 90) -> None:
        self._g.rounded_rectangle(self._soft_box(box), radius=self.soft_k * 1.2, fill=(255, alpha))

    # --- shapes ------------------------------------------------------------------------------
    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill: Colour | tuple, outline: Colour | None = None,
                width: float = 0) -> None:
        self.d.ellipse(self.p(cx - rx, cy - ry, cx + rx, cy + ry), fill=fill, outline=outline,
                       width=int(width * self.k))

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: Colour | tuple, radius: float = 0,
             outline: Colour | None = None, width: float = 0) -> None:
        self.d.rounded_rectangle(self.p(x0, y0, x1, y1), radius=radius * self.k, fill=fill, outline=outline,
                                 width=int(width * self.k))

    def poly(self, points: list[tuple[float, float]], fill: Colour | tuple, outline: Colour | None = None) -> None:
        self.d.polygon(self.pts(points), fill=fill, outline=outline)

    def line(self, points: list[tuple[float, float]], fill: Colour | tuple, width: float, joint: bool = True) -> None:
        self.d.line(self.pts(points), fill=fill, width=max(1, int(width * self.k)), joint="curve" if joint else None)

    def arc(self, cx: float, cy: float, rx: float, ry: float, start: float, end: float, fill: Colour,
            width: float) -> None:
        self.d.arc(self.p(cx - rx, cy - ry, cx + rx, cy + ry), start, end, fill=fill, width=max(1, int(width * self.k)))

    def capsule(self, cx: float, cy: float, length: float, width: float, angle: float, fill: Colour,
                steps: int = 10) -> list[tuple[float, float]]:
        """A rounded bar centred on (cx, cy), ``angle`` in degrees; its outline."""
        a = math.radians(angle)
        ux, uy = math.cos(a), math.sin(a)
        half, r = max(0.0, length / 2 - width / 2), width / 2
        points = []
        for end in (1, -1):
            ex, ey = cx + ux * half * end, cy + uy * half * end
            for i in range(steps + 1):
                t = a + (-math.pi / 2 if end == 1 else math.pi / 2) + math.pi * i / steps
                points.append((ex + math.cos(t) * r, ey + math.sin(t) * r))
        self.poly(points, fill)
        return points

    def oval(self, cx: float, cy: float, rx: float, ry: float, angle: float, fill: Colour | tuple,
             steps: int = 28) -> None:
        """A rotated ellipse."""
        a = math.radians(angle)
        ca, sa = math.cos(a), math.sin(a)
        points = []
        for i in range(steps):
            t = 2 * math.pi * i / steps
            x, y = rx * math.cos(t), ry * math.sin(t)
            points.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
        self.poly(points, fill)

    def blob(self, cx: float, cy: float, r: float, fill: Colour, corners: int = 7, rough: float = 0.3,
             squash: float = 1.0) -> list[tuple[float, float]]:
        """An irregular lump (a piece of charcoal, a chunk of dried fruit)."""
        start = self.rng.uniform(0, math.tau)
        points = [(cx + math.cos(start + math.tau * i / corners) * r * self.rng.uniform(1 - rough, 1),
                   cy + math.sin(start + math.tau * i / corners) * r * squash * self.rng.uniform(1 - rough, 1))
                  for i in range(corners)]
        self.poly(points, fill)
        return points

    # --- the finished picture ----------------------------------------------------------------
    def image(self) -> Image.Image:
        """The finished picture: everything put together at the final size, framed by FRAME
        (closer than drawn, so that the goods fill the square of a product card)."""
        final = (SIZE, SIZE)
        left, top = round(FRAME[0] * self.k), round(FRAME[1] * self.k)
        frame = (left, top, left + SIZE * SCALE, top + SIZE * SCALE)
        soft_frame = tuple(v * self.soft_k for v in FRAME)
        picture = self.base.reduce(SCALE, box=frame)
        shade = self.shade.filter(ImageFilter.GaussianBlur(self.soft_k * 1.6))
        shade = shade.resize(final, Image.Resampling.BILINEAR, box=soft_frame).point(lambda v: v * 0.55)
        picture = Image.composite(Image.new("RGB", final, (40, 34, 28)), picture, shade)
        layer = self.layer.reduce(SCALE, box=frame)
        picture.paste(layer, (0, 0), layer)
        gloss = self.gloss.filter(ImageFilter.GaussianBlur(self.soft_k * 0.9))
        gloss = gloss.resize(final, Image.Resampling.BILINEAR, box=soft_frame).convert("RGBA")
        picture.paste(gloss, (0, 0), gloss)
        return picture


# --- the goods ----------------------------------------------------------------------------------

def scatter(c: Canvas, n: int, cx: float, cy: float, rx: float, ry: float,
            item: Callable[[float, float, int], None]) -> None:
    """``n`` items inside an ellipse, drawn from the back to the front."""
    spots = []
    while len(spots) < n:
        x, y = c.rng.uniform(-1, 1), c.rng.uniform(-1, 1)
        if x * x + y * y <= 1:
            spots.append((cx + x * rx, cy + y * ry))
    for i, (x, y) in enumerate(sorted(spots, key=lambda s: s[1])):
        item(x, y, i)


def tray(c: Canvas, cx: float = 50, cy: float = 70, rx: float = 40, ry: float = 17) -> None:
    """A round woven bamboo tray (竹匾)."""
    c.shadow(cx, cy + 3, rx + 1, ry + 2)
    rim = (176, 138, 84)
    c.ellipse(cx, cy, rx, ry, dark(rim, 0.12))
    c.ellipse(cx, cy - 1, rx - 2, ry - 1.6, (214, 178, 118))
    for i in range(1, 9):  # the weave's rings
        f = i / 9
        c.d.ellipse(c.p(cx - (rx - 2) * f, cy - 1 - (ry - 1.6) * f, cx + (rx - 2) * f, cy - 1 + (ry - 1.6) * f),
                    outline=(196, 158, 98), width=max(1, int(c.k * 0.35)))


def plate(c: Canvas, cx: float = 50, cy: float = 72, rx: float = 38, ry: float = 15, colour: Colour = (250, 249, 244)) -> None:
    c.shadow(cx, cy + 2.5, rx, ry + 1.5)
    c.ellipse(cx, cy, rx, ry, dark(colour, 0.1))
    c.ellipse(cx, cy - 0.8, rx - 1, ry - 1, colour)
    c.ellipse(cx, cy - 0.2, rx * 0.72, ry * 0.68, dark(colour, 0.04))


def bowl(c: Canvas, cx: float, cy: float, r: float, colour: Colour, contents: Colour | None = None) -> None:
    """A bowl seen from slightly above; ``contents`` fills it to the brim."""
    c.shadow(cx, cy + r * 0.55, r * 1.05, r * 0.28)
    c.d.chord(c.p(cx - r, cy - r * 0.9, cx + r, cy + r * 0.9), 0, 180, fill=colour)
    c.ellipse(cx, cy, r, r * 0.32, dark(colour, 0.08))
    c.ellipse(cx, cy + 0.3, r * 0.93, r * 0.27, contents or dark(colour, 0.2))
    c.shine((cx - r * 0.75, cy + r * 0.15, cx - r * 0.45, cy + r * 0.6), 80)


def charcoal_stick(c: Canvas, x: float, y: float, length: float, angle: float, width: float = 4.2) -> None:
    """A stick of bamboo charcoal: black, with the bamboo's nodes."""
    black = vary(c.rng, (38, 38, 40), 6)
    c.capsule(x, y, length, width, angle, black)
    a = math.radians(angle)
    c.capsule(x - math.sin(a) * width * 0.18, y - width * 0.18 * math.cos(a), length * 0.95, width * 0.28, angle, (92, 94, 98))
    for t in (-0.22, 0.18):
        nx, ny = x + math.cos(a) * length * t, y + math.sin(a) * length * t
        px, py = -math.sin(a) * width / 2, math.cos(a) * width / 2
        c.line([(nx - px, ny - py), (nx + px, ny + py)], (18, 18, 20), 0.7)


def charcoal_lump(c: Canvas, x: float, y: float, r: float) -> None:
    points = c.blob(x, y, r, vary(c.rng, (44, 44, 46), 6), corners=c.rng.randint(5, 7))
    top = [(px + (x - px) * 0.35 - r * 0.1, py + (y - py) * 0.45 - r * 0.15) for px, py in points[: len(points) // 2 + 1]]
    c.poly(top, (78, 80, 84))


def briquette(c: Canvas, x: float, y: float, r: float) -> None:
    """A hexagonal charcoal briquette seen end-on, with its hole (机制炭)."""
    hexagon = [(x + r * math.cos(math.pi / 6 + i * math.pi / 3), y + r * math.sin(math.pi / 6 + i * math.pi / 3))
               for i in range(6)]
    c.poly(hexagon, (30, 30, 32))
    inner = [(x + 0.82 * (px - x), y + 0.82 * (py - y)) for px, py in hexagon]
    c.poly(inner, vary(c.rng, (70, 70, 74), 6))
    c.ellipse(x, y, r * 0.26, r * 0.26, (16, 16, 18))
    c.line([inner[3], inner[4], inner[5]], (104, 106, 110), 0.5)


def sachet(c: Canvas, x: float, y: float, w: float, h: float, cloth: Colour, tie: Colour = (150, 112, 70)) -> None:
    """A cloth sachet gathered at the top with a string."""
    c.shadow(x, y + h * 0.5, w * 0.58, h * 0.09)
    body = [(x - w / 2, y + h / 2), (x - w / 2 * 0.96, y - h * 0.12), (x - w * 0.18, y - h * 0.3),
            (x + w * 0.18, y - h * 0.3), (x + w / 2 * 0.96, y - h * 0.12), (x + w / 2, y + h / 2)]
    c.poly(body, cloth)
    c.rect(x - w / 2, y + h * 0.3, x + w / 2, y + h / 2, cloth, radius=w * 0.08)
    c.poly([(x - w * 0.18, y - h * 0.3), (x - w * 0.3, y - h * 0.5), (x + w * 0.3, y - h * 0.5), (x + w * 0.18, y - h * 0.3)],
           light(cloth, 0.08))
    for i in range(5):  # folds of the gathered cloth
        fx = x - w * 0.22 + i * w * 0.11
        c.line([(fx, y - h * 0.46), (fx + (i - 2) * w * 0.02, y - h * 0.3)], dark(cloth, 0.12), 0.5)
    c.rect(x - w * 0.2, y - h * 0.33, x + w * 0.2, y - h * 0.27, tie, radius=0.6)
    c.line([(x + w * 0.1, y - h * 0.3), (x + w * 0.22, y - h * 0.12), (x + w * 0.17, y - h * 0.03)], tie, 0.8)
    # linen texture and a stitched label
    for i in range(8):
        ty = y - h * 0.1 + i * h * 0.075
        c.line([(x - w * 0.46, ty), (x + w * 0.46, ty)], dark(cloth, 0.05), 0.25)
    c.rect(x - w * 0.22, y + h * 0.02, x + w * 0.22, y + h * 0.26, light(cloth, 0.55), radius=1)
    c.rect(x - w * 0.15, y + h * 0.07, x + w * 0.15, y + h * 0.11, (60, 60, 60), radius=0.5)
    c.rect(x - w * 0.1, y + h * 0.15, x + w * 0.1, y + h * 0.18, (120, 120, 120), radius=0.5)
    c.shine((x - w * 0.45, y - h * 0.1, x - w * 0.25, y + h * 0.4), 60)


def leaf(c: Canvas, x: float, y: float, length: float, angle: float, colour: Colour, width: float = 0.28) -> None:
    c.oval(x, y, length / 2, length * width / 2, angle, colour)
    a = math.radians(angle)
    c.line([(x - math.cos(a) * length * 0.45, y - math.sin(a) * length * 0.45),
            (x + math.cos(a) * length * 0.45, y + math.sin(a) * length * 0.45)], dark(colour, 0.25), 0.3)


def bamboo_leaves(c: Canvas, x: float, y: float, angle: float = -20) -> None:
    for i, da in enumerate((-28, 0, 30)):
        a = math.radians(angle + da)
        leaf(c, x + math.cos(a) * 7, y + math.sin(a) * 7, 15 - i, angle + da, vary(c.rng, (92, 150, 70), 10), 0.2)


def strip(c: Canvas, x: float, y: float, length: float, width: float, angle: float, colour: Colour,
          edge: Colour | None = None, nodes: int = 0) -> None:
    """A strip of something dried (sweet potato, bamboo shoot, radish): a bar with a lighter face."""
    c.capsule(x, y, length, width, angle, edge or dark(colour, 0.2))
    c.capsule(x - 0.2, y - 0.3, length * 0.94, width * 0.7, angle, colour)
    a = math.radians(angle)
    c.capsule(x - math.sin(a) * width * 0.12 - 0.2, y - 0.6, length * 0.7, width * 0.2, angle, light(colour, 0.25))
    for i in range(nodes):
        t = (i + 1) / (nodes + 1) - 0.5
        nx, ny = x + math.cos(a) * length * t, y + math.sin(a) * length * t
        px, py = -math.sin(a) * width * 0.4, math.cos(a) * width * 0.4
        c.line([(nx - px, ny - py), (nx + px, ny + py)], dark(colour, 0.25), 0.35)


def shiitake(c: Canvas, x: float, y: float, r: float, flower: bool) -> None:
    """A dried shiitake cap seen from above; a 'flower' shiitake has white cracks (花菇)."""
    cap = vary(c.rng, (112, 70, 38) if flower else (98, 62, 36), 10)
    c.ellipse(x, y + r * 0.12, r * 1.02, r * 0.86, dark(cap, 0.35))
    c.ellipse(x, y, r, r * 0.82, cap)
    c.ellipse(x - r * 0.15, y - r * 0.15, r * 0.6, r * 0.45, light(cap, 0.12))
    if flower:
        for _ in range(7):
            a = c.rng.uniform(0, math.tau)
            points = [(x, y)]
            for step in range(1, 4):
                dist = r * step / 3.3
                a += c.rng.uniform(-0.4, 0.4)
                points.append((x + math.cos(a) * dist, y + math.sin(a) * dist * 0.82))
            c.line(points, (236, 226, 204), r * 0.09)
    else:
        for _ in range(4):
            a = c.rng.uniform(0, math.tau)
            c.line([(x + math.cos(a) * r * 0.5, y + math.sin(a) * r * 0.4),
                    (x + math.cos(a) * r * 0.85, y + math.sin(a) * r * 0.7)], light(cap, 0.35), r * 0.05)
    c.shine((x - r * 0.7, y - r * 0.6, x - r * 0.1, y - r * 0.15), 50)


def mushroom_side(c: Canvas, x: float, y: float, h: float, cap: Colour, stem: Colour) -> None:
    """A long-stemmed mushroom lying down (茶树菇)."""
    angle = c.rng.uniform(-30, 30)
    a = math.radians(angle)
    c.capsule(x, y, h, h * 0.16, angle, stem)
    cx, cy = x + math.cos(a) * h * 0.5, y + math.sin(a) * h * 0.5
    c.oval(cx, cy, h * 0.12, h * 0.2, angle, dark(cap, 0.15))
    c.oval(cx + math.cos(a) * 0.6, cy + math.sin(a) * 0.6, h * 0.09, h * 0.17, angle, cap)


def fungus(c: Canvas, x: float, y: float, r: float) -> None:
    """A piece of dried black fungus (木耳): a dark, wavy, ear-shaped sheet."""
    black = vary(c.rng, (34, 26, 24), 6)
    points = c.blob(x, y, r, black, corners=9, rough=0.35, squash=0.8)
    c.poly([(x + (px - x) * 0.6, y + (py - y) * 0.6 - r * 0.1) for px, py in points], (62, 50, 46))
    c.arc(x, y, r * 0.45, r * 0.3, 200, 330, (84, 70, 64), r * 0.06)


def fern(c: Canvas, x: float, y: float, size: float) -> None:
    """A dried bracken frond: a stem ending in a curled head (蕨菜)."""
    colour = vary(c.rng, (96, 88, 44), 10)
    angle = c.rng.uniform(-60, 60)
    a = math.radians(angle)
    ex, ey = x + math.cos(a) * size, y + math.sin(a) * size * 0.6
    c.line([(x - math.cos(a) * size * 0.6, y - math.sin(a) * size * 0.36), (ex, ey)], colour, 1.1)
    points = []
    for i in range(26):  # a spiral
        t = i / 25 * 4.2
        rr = size * 0.26 * (1 - i / 28)
        points.append((ex + math.cos(a + t + math.pi / 2) * rr, ey + math.sin(a + t + math.pi / 2) * rr))
    c.line(points, dark(colour, 0.15), 1.1)


def tea_leaf(c: Canvas, x: float, y: float, size: float, colour: Colour, curly: bool = True) -> None:
    angle = c.rng.uniform(0, 180)
    if curly:  # a twisted, slender dry leaf (银猴, 炒青)
        a = math.radians(angle)
        bend = c.rng.uniform(-0.9, 0.9)
        points = [(x + math.cos(a + bend * t) * size * (t - 0.5), y + math.sin(a + bend * t) * size * (t - 0.5))
                  for t in (0, 0.25, 0.5, 0.75, 1)]
        c.line(points, colour, size * 0.16)
        c.line(points[1:4], light(colour, 0.35), size * 0.05)
    else:  # a flat leaf (龙谷丽人)
        leaf(c, x, y, size, angle, colour, 0.22)


def flower(c: Canvas, x: float, y: float, r: float, petal: Colour, centre: Colour, petals: int = 18) -> None:
    """A dried flower head from above (菊花)."""
    for ring, scale in ((0, 1.0), (1, 0.72)):
        for i in range(petals):
            a = math.tau * i / petals + ring * 0.17
            c.oval(x + math.cos(a) * r * 0.55 * scale, y + math.sin(a) * r * 0.55 * scale, r * 0.45 * scale,
                   r * 0.13 * scale, math.degrees(a), vary(c.rng, petal if ring == 0 else light(petal, 0.15), 8), 12)
    c.ellipse(x, y, r * 0.3, r * 0.3, centre)
    c.ellipse(x - r * 0.06, y - r * 0.06, r * 0.16, r * 0.16, light(centre, 0.3))


def bud(c: Canvas, x: float, y: float, r: float, colour: Colour, sepal: Colour = (96, 120, 60)) -> None:
    """A dried flower bud (玫瑰花蕾, 菊米): a round head with green sepals."""
    angle = c.rng.uniform(0, 360)
    a = math.radians(angle)
    c.oval(x, y, r, r * 0.8, angle, dark(colour, 0.15))
    c.oval(x - 0.2, y - 0.2, r * 0.8, r * 0.62, angle, colour)
    c.oval(x - math.cos(a) * r * 0.2, y - math.sin(a) * r * 0.2, r * 0.35, r * 0.25, angle, light(colour, 0.2))
    bx, by = x + math.cos(a) * r * 0.9, y + math.sin(a) * r * 0.9
    for da in (-40, 0, 40):
        leaf(c, bx, by, r * 0.9, angle + da, sepal, 0.35)


def honeysuckle(c: Canvas, x: float, y: float, size: float) -> None:
    angle = c.rng.uniform(0, 360)
    colour = vary(c.rng, (222, 200, 142), 12)
    a = math.radians(angle)
    c.line([(x - math.cos(a) * size / 2, y - math.sin(a) * size / 2), (x + math.cos(a) * size / 2, y + math.sin(a) * size / 2)],
           colour, size * 0.12)
    c.ellipse(x + math.cos(a) * size / 2, y + math.sin(a) * size / 2, size * 0.12, size * 0.12, light(colour, 0.15))
    c.line([(x - math.cos(a) * size / 2, y - math.sin(a) * size / 2), (x - math.cos(a) * size * 0.62, y - math.sin(a) * size * 0.62)],
           (120, 130, 70), size * 0.06)


def osmanthus(c: Canvas, x: float, y: float, r: float) -> None:
    colour = vary(c.rng, (236, 160, 40), 14)
    for i in range(4):
        a = math.tau * i / 4 + c.rng.uniform(0, 0.5)
        c.ellipse(x + math.cos(a) * r * 0.45, y + math.sin(a) * r * 0.45, r * 0.45, r * 0.45, colour)
    c.ellipse(x, y, r * 0.25, r * 0.25, dark(colour, 0.2))


def berry(c: Canvas, x: float, y: float, r: float) -> None:
    """A dried bayberry (杨梅干): dark red with a bumpy skin."""
    red = vary(c.rng, (120, 24, 36), 10)
    c.ellipse(x, y, r, r, dark(red, 0.3))
    c.ellipse(x - r * 0.05, y - r * 0.05, r * 0.9, r * 0.9, red)
    for _ in range(14):
        a, d = c.rng.uniform(0, math.tau), c.rng.uniform(0, r * 0.8)
        c.ellipse(x + math.cos(a) * d, y + math.sin(a) * d, r * 0.13, r * 0.13, light(red, 0.18))
    c.shine((x - r * 0.6, y - r * 0.7, x - r * 0.05, y - r * 0.2), 80)


def kiwi_slice(c: Canvas, x: float, y: float, r: float) -> None:
    c.ellipse(x, y, r, r * 0.9, (110, 86, 50))
    c.ellipse(x, y, r * 0.9, r * 0.8, vary(c.rng, (150, 176, 60), 8))
    c.ellipse(x, y, r * 0.52, r * 0.46, (178, 54, 58))  # the red heart
    c.ellipse(x, y, r * 0.3, r * 0.26, (236, 226, 176))
    for i in range(14):
        a = math.tau * i / 14
        c.ellipse(x + math.cos(a) * r * 0.4, y + math.sin(a) * r * 0.36, r * 0.045, r * 0.07, (30, 24, 20))


def persimmon(c: Canvas, x: float, y: float, r: float) -> None:
    """A farmhouse dried persimmon (柿饼): a flat orange disc dusted with white sugar bloom."""
    orange = vary(c.rng, (196, 104, 40), 10)
    c.ellipse(x, y + r * 0.12, r, r * 0.72, dark(orange, 0.3))
    c.ellipse(x, y, r, r * 0.7, orange)
    for _ in range(40):
        a, d = c.rng.uniform(0, math.tau), c.rng.uniform(0.2, 0.95) * r
        c.ellipse(x + math.cos(a) * d, y + math.sin(a) * d * 0.7, r * 0.06, r * 0.04, (238, 226, 206))
    for i in range(4):
        a = math.tau * i / 4 + 0.4
        c.oval(x + math.cos(a) * r * 0.14, y + math.sin(a) * r * 0.1, r * 0.18, r * 0.07, math.degrees(a), (86, 70, 36))
    c.ellipse(x, y, r * 0.06, r * 0.06, (60, 48, 26))


def grain(c: Canvas, x: float, y: float, r: float, colour: Colour) -> None:
    c.oval(x, y, r, r * 0.55, c.rng.uniform(0, 180), vary(c.rng, colour, 10), 10)


def kernel(c: Canvas, x: float, y: float, r: float) -> None:
    colour = vary(c.rng, (238, 186, 44), 12)
    c.rect(x - r, y - r * 0.8, x + r, y + r * 0.8, dark(colour, 0.15), radius=r * 0.5)
    c.rect(x - r * 0.8, y - r * 0.7, x + r * 0.7, y + r * 0.5, colour, radius=r * 0.45)


def pile_mound(c: Canvas, cx: float, cy: float, rx: float, ry: float, colour: Colour) -> None:
    """The shape of a heap, to hide the tray under a pile of small things."""
    c.d.chord(c.p(cx - rx, cy - ry * 2, cx + rx, cy + ry * 0.6), 180, 360, fill=dark(colour, 0.1))
    c.ellipse(cx, cy - ry * 0.2, rx, ry * 0.6, dark(colour, 0.1))


# --- packaging ----------------------------------------------------------------------------------

def emblem(c: Canvas, x: float, y: float, r: float, colour: Colour) -> None:
    """The little mark on every label: mountains under a sun."""
    c.ellipse(x + r * 0.35, y - r * 0.35, r * 0.28, r * 0.28, (230, 140, 50))
    c.poly([(x - r, y + r * 0.6), (x - r * 0.3, y - r * 0.45), (x + r * 0.2, y + r * 0.6)], colour)
    c.poly([(x - r * 0.2, y + r * 0.6), (x + r * 0.45, y - r * 0.1), (x + r, y + r * 0.6)], light(colour, 0.3))


def text_lines(c: Canvas, x: float, y: float, width: float, colour: Colour, lines: int = 2, size: float = 1.6) -> None:
    """Lines standing for printed words (no lettering: nothing to translate or misprint)."""
    for i in range(lines):
        w = width * (1 if i == 0 else c.rng.uniform(0.5, 0.8))
        c.rect(x - w / 2, y + i * size * 2.1, x + w / 2, y + i * size * 2.1 + size, colour, radius=size / 2)


def label(c: Canvas, x: float, y: float, w: float, h: float, paper: Colour, ink: Colour) -> None:
    c.rect(x - w / 2, y - h / 2, x + w / 2, y + h / 2, paper, radius=min(w, h) * 0.12)
    emblem(c, x, y - h * 0.15, min(w, h) * 0.2, ink)
    text_lines(c, x, y + h * 0.18, w * 0.6, ink, 2, h * 0.06)


def pouch(c: Canvas, x: float, y: float, w: float, h: float, colour: Colour, inside: Callable[[Canvas, Box], None] | None,
          paper: Colour = (250, 246, 234), ink: Colour = (60, 96, 56)) -> None:
    """A stand-up pouch with a window showing the goods, a label and a zip."""
    c.shadow(x, y + h / 2, w * 0.58, h * 0.06)
    body = [(x - w / 2, y - h / 2), (x + w / 2, y - h / 2), (x + w / 2 * 1.04, y + h / 2), (x - w / 2 * 1.04, y + h / 2)]
    c.poly(body, colour)
    c.rect(x - w / 2 * 1.04, y + h * 0.36, x + w / 2 * 1.04, y + h / 2, dark(colour, 0.08), radius=w * 0.05)
    c.line([(x - w / 2, y - h * 0.4), (x + w / 2, y - h * 0.4)], dark(colour, 0.18), 0.5)
    for side in (-1, 1):  # tear notches
        c.poly([(x + side * w / 2, y - h * 0.36), (x + side * w * 0.47, y - h * 0.35), (x + side * w / 2, y - h * 0.34)], dark(colour, 0.4))
    if inside is not None:
        window = (x - w * 0.3, y - h * 0.3, x + w * 0.3, y + h * 0.05)
        goods = Canvas(c.rng, c.px)
        goods.base = Image.new("RGB", (c.px, c.px), (246, 240, 226))
        inside(goods, window)
        layer = goods.base.copy()
        layer.paste(goods.layer, (0, 0), goods.layer)
        mask = Image.new("L", (c.px, c.px), 0)
        ImageDraw.Draw(mask).rounded_rectangle(c.p(*window), radius=c.k * w * 0.12, fill=255)
        c.layer.paste(layer, (0, 0), mask)
        c.d.rounded_rectangle(c.p(*window), radius=c.k * w * 0.12, outline=light(colour, 0.3), width=int(c.k * 0.5))
        c.shine_rect((window[0] + 1, window[1] + 1, window[0] + 4, window[3] - 2), 70)
    label(c, x, y + h * 0.24, w * 0.72, h * 0.22, paper, ink)
    c.shine_rect((x - w * 0.47, y - h * 0.45, x - w * 0.4, y + h * 0.4), 55)


def tin(c: Canvas, x: float, y: float, w: float, h: float, colour: Colour, paper: Colour = (248, 242, 226),
        ink: Colour = (56, 92, 58), lid: Colour = (190, 192, 196)) -> None:
    """A round tea tin (罐) with a metal lid and a paper band."""
    rx, ry = w / 2, w * 0.14
    c.shadow(x, y + h / 2, rx * 1.15, ry * 1.2)
    c.rect(x - rx, y - h / 2, x + rx, y + h / 2, colour)
    c.ellipse(x, y + h / 2, rx, ry, colour)
    band_top, band_bottom = y - h * 0.12, y + h * 0.3
    c.rect(x - rx, band_top, x + rx, band_bottom, paper)
    c.d.chord(c.p(x - rx, band_bottom - ry, x + rx, band_bottom + ry), 0, 180, fill=paper)
    emblem(c, x, band_top + (band_bottom - band_top) * 0.35, w * 0.16, ink)
    text_lines(c, x, band_top + (band_bottom - band_top) * 0.7, w * 0.5, ink, 2, 1.3)
    c.rect(x - rx - 0.5, y - h / 2 - 2, x + rx + 0.5, y - h / 2 + h * 0.12, lid)
    c.ellipse(x, y - h / 2 + h * 0.12, rx + 0.5, ry, dark(lid, 0.12))
    c.rect(x - rx - 0.5, y - h / 2 - 2, x + rx + 0.5, y - h / 2 + h * 0.1, lid)
    c.ellipse(x, y - h / 2 - 2, rx + 0.5, ry, light(lid, 0.25))
    c.shine_rect((x - rx * 0.75, y - h * 0.42, x - rx * 0.55, y + h * 0.45), 70)


def bottle(c: Canvas, x: float, y: float, w: float, h: float, liquid: Colour, glass_alpha: int = 60,
           cap: Colour = (170, 40, 36), paper: Colour = (250, 244, 228), ink: Colour = (120, 70, 30),
           neck: float = 0.3) -> None:
    """A glass bottle with a cap and a label."""
    c.shadow(x, y + h / 2, w * 0.6, w * 0.12)
    body_top = y - h / 2 + h * neck
    c.rect(x - w / 2, body_top, x + w / 2, y + h / 2, dark(liquid, 0.1), radius=w * 0.18)
    c.rect(x - w / 2 + 1, body_top + h * 0.08, x + w / 2 - 1, y + h / 2 - 1, liquid, radius=w * 0.15)
    c.poly([(x - w * 0.17, y - h / 2 + h * 0.06), (x + w * 0.17, y - h / 2 + h * 0.06), (x + w / 2, body_top + w * 0.15),
            (x - w / 2, body_top + w * 0.15)], dark(liquid, 0.05))
    c.rect(x - w * 0.2, y - h / 2 - 1, x + w * 0.2, y - h / 2 + h * 0.08, cap, radius=1)
    c.rect(x - w * 0.2, y - h / 2 - 1, x + w * 0.2, y - h / 2 + 1, light(cap, 0.2), radius=1)
    label(c, x, body_top + (y + h / 2 - body_top) * 0.52, w * 0.86, (y + h / 2 - body_top) * 0.48, paper, ink)
    c.shine_rect((x - w * 0.4, body_top + 2, x - w * 0.28, y + h / 2 - 3), glass_alpha + 40)


def jar(c: Canvas, x: float, y: float, w: float, h: float, contents: Colour, lid: Colour = (196, 150, 60),
        paper: Colour = (250, 244, 228), ink: Colour = (140, 84, 20)) -> None:
    """A wide glass jar (honey) with a screw lid."""
    c.shadow(x, y + h / 2, w * 0.6, w * 0.1)
    c.rect(x - w / 2, y - h / 2 + h * 0.12, x + w / 2, y + h / 2, dark(contents, 0.12), radius=w * 0.12)
    c.rect(x - w / 2 + 1, y - h / 2 + h * 0.16, x + w / 2 - 1, y + h / 2 - 1, contents, radius=w * 0.1)
    c.rect(x - w * 0.45, y - h / 2, x + w * 0.45, y - h / 2 + h * 0.14, lid, radius=1.2)
    for i in range(1, 6):
        lx = x - w * 0.45 + i * w * 0.15
        c.line([(lx, y - h / 2 + 0.5), (lx, y - h / 2 + h * 0.13)], dark(lid, 0.15), 0.4)
    label(c, x, y + h * 0.12, w * 0.8, h * 0.44, paper, ink)
    c.shine_rect((x - w * 0.42, y - h * 0.28, x - w * 0.32, y + h * 0.42), 100)


def jug(c: Canvas, x: float, y: float, w: float, h: float, liquid: Colour, cap: Colour = (220, 60, 40)) -> None:
    """A plastic oil jug (桶) with a handle."""
    c.shadow(x, y + h / 2, w * 0.6, w * 0.1)
    c.rect(x - w / 2, y - h / 2 + h * 0.15, x + w / 2, y + h / 2, dark(liquid, 0.08), radius=w * 0.1)
    c.rect(x - w / 2 + 1, y - h / 2 + h * 0.3, x + w / 2 - 1, y + h / 2 - 1, liquid, radius=w * 0.08)
    c.poly([(x - w / 2, y - h / 2 + h * 0.2), (x - w * 0.1, y - h / 2), (x + w * 0.5, y - h / 2), (x + w / 2, y - h / 2 + h * 0.2)],
           light(liquid, 0.35))
    c.rect(x + w * 0.05, y - h / 2 - 1, x + w * 0.45, y - h / 2 + h * 0.12, (246, 242, 230), radius=2)  # handle
    c.rect(x + w * 0.12, y - h / 2 + 1, x + w * 0.38, y - h / 2 + h * 0.08, light(liquid, 0.35), radius=1)
    c.rect(x - w * 0.38, y - h / 2 - 3, x - w * 0.16, y - h / 2 + 2, cap, radius=1)
    label(c, x, y + h * 0.18, w * 0.8, h * 0.4, (250, 244, 228), (160, 100, 20))
    c.shine_rect((x - w * 0.44, y - h * 0.2, x - w * 0.36, y + h * 0.42), 90)


def gift_box(c: Canvas, x: float, y: float, w: float, h: float, colour: Colour, band: Colour = (214, 170, 80),
             depth: float = 0.35, window: Callable[[Canvas, Box], None] | None = None) -> None:
    """A box in perspective: front, top and side, a band round it, a label on the front."""
    d = w * depth
    c.shadow(x + d * 0.3, y + h / 2, w * 0.62 + d * 0.3, h * 0.08)
    front = (x - w / 2, y - h / 2 + d * 0.5, x + w / 2 - d * 0.3, y + h / 2)
    c.poly([(front[0], front[1]), (front[0] + d * 0.3, front[1] - d * 0.5), (front[2] + d * 0.3, front[1] - d * 0.5),
            (front[2], front[1])], light(colour, 0.22))  # top
    c.poly([(front[2], front[1]), (front[2] + d * 0.3, front[1] - d * 0.5), (front[2] + d * 0.3, front[3] - d * 0.5),
            (front[2], front[3])], dark(colour, 0.25))  # side
    c.rect(*front, colour)
    if window is not None:
        hole = (front[0] + w * 0.1, front[1] + (front[3] - front[1]) * 0.1, front[2] - w * 0.1, front[1] + (front[3] - front[1]) * 0.5)
        goods = Canvas(c.rng, c.px)
        goods.base = Image.new("RGB", (c.px, c.px), (244, 236, 220))
        window(goods, hole)
        layer = goods.base.copy()
        layer.paste(goods.layer, (0, 0), goods.layer)
        mask = Image.new("L", (c.px, c.px), 0)
        ImageDraw.Draw(mask).rounded_rectangle(c.p(*hole), radius=c.k * 1.5, fill=255)
        c.layer.paste(layer, (0, 0), mask)
        c.d.rounded_rectangle(c.p(*hole), radius=c.k * 1.5, outline=band, width=int(c.k * 0.6))
        label(c, (front[0] + front[2]) / 2, front[3] - (front[3] - front[1]) * 0.24, w * 0.5, (front[3] - front[1]) * 0.3,
              (250, 244, 230), dark(colour, 0.2))
    else:
        bx = front[0] + (front[2] - front[0]) * 0.72
        c.rect(bx - 1.5, front[1], bx + 1.5, front[3], band)
        c.poly([(bx - 1.5 + d * 0.0, front[1]), (bx - 1.5 + d * 0.3, front[1] - d * 0.5), (bx + 1.5 + d * 0.3, front[1] - d * 0.5),
                (bx + 1.5, front[1])], light(band, 0.2))
        label(c, front[0] + (front[2] - front[0]) * 0.36, (front[1] + front[3]) / 2, (front[2] - front[0]) * 0.5,
              (front[3] - front[1]) * 0.55, (250, 244, 230), dark(colour, 0.15))
    c.shine_rect((front[0] + 1, front[1] + 1, front[0] + 3, front[3] - 2), 50)


def sack(c: Canvas, x: float, y: float, w: float, h: float, cloth: Colour = (240, 234, 218),
         stripe: Colour = (186, 50, 40), inside: Colour | None = None) -> None:
    """A woven rice sack, open at the top to show the grain."""
    c.shadow(x, y + h / 2, w * 0.62, h * 0.07)
    c.poly([(x - w / 2, y - h / 2), (x + w / 2, y - h / 2), (x + w * 0.54, y + h / 2), (x - w * 0.54, y + h / 2)], cloth)
    c.rect(x - w * 0.54, y + h * 0.35, x + w * 0.54, y + h / 2, cloth, radius=w * 0.08)
    for i in range(14):  # the weave
        yy = y - h / 2 + i * h / 14
        c.line([(x - w / 2, yy), (x + w / 2, yy)], dark(cloth, 0.05), 0.25)
    if inside is not None:
        c.ellipse(x, y - h / 2, w / 2, w * 0.12, dark(cloth, 0.12))
        c.ellipse(x, y - h / 2 + 0.4, w / 2 - 1.2, w * 0.1, inside)
        for _ in range(40):
            grain(c, x + c.rng.uniform(-w * 0.4, w * 0.4), y - h / 2 + c.rng.uniform(-w * 0.06, w * 0.07), 0.7, dark(inside, 0.06))
    c.rect(x - w * 0.52, y - h * 0.1, x + w * 0.52, y - h * 0.02, stripe)
    c.rect(x - w * 0.52, y + h * 0.26, x + w * 0.52, y + h * 0.3, stripe)
    label(c, x, y + h * 0.12, w * 0.6, h * 0.22, (252, 248, 236), (70, 110, 60))


def hang_tag(c: Canvas, x: float, y: float, w: float = 14, angle_ink: Colour = (70, 100, 60)) -> None:
    """A kraft paper tag on a string: the packaging of things sold loose."""
    h = w * 1.5
    c.line([(x, y - h * 0.75), (x - w * 0.8, y - h * 1.3)], (150, 120, 80), 0.4)
    c.poly([(x - w / 2, y - h / 2 + w * 0.25), (x - w * 0.25, y - h / 2), (x + w * 0.25, y - h / 2),
            (x + w / 2, y - h / 2 + w * 0.25), (x + w / 2, y + h / 2), (x - w / 2, y + h / 2)], (204, 170, 118))
    c.ellipse(x, y - h / 2 + w * 0.22, w * 0.07, w * 0.07, (120, 92, 60))
    emblem(c, x, y - h * 0.05, w * 0.26, angle_ink)
    text_lines(c, x, y + h * 0.2, w * 0.6, angle_ink, 2, 0.9)


# --- what each product looks like ---------------------------------------------------------------

@dataclass(frozen=True)
class Look:
    goods: Callable[[Canvas], None]
    package: Callable[[Canvas], None]
    wall: Colour
    table: Colour = (196, 156, 112)


def _backdrop(c: Canvas, look_wall: Colour, table: Colour, horizon: float = 62) -> None:
    c.backdrop(look_wall, table, horizon)


def pile_on_tray(item: Callable[[Canvas, float, float, int], None], n: int, rx: float = 31, ry: float = 11,
                 cy: float = 69) -> Callable[[Canvas], None]:
    def draw(c: Canvas) -> None:
        tray(c, 50, cy + 1, rx + 8, ry + 5)
        scatter(c, n, 50, cy - 1, rx, ry, lambda x, y, i: item(c, x, y, i))
    return draw


def pile_on_plate(item: Callable[[Canvas, float, float, int], None], n: int, rx: float = 27, ry: float = 9,
                  cy: float = 70, colour: Colour = (250, 249, 244)) -> Callable[[Canvas], None]:
    def draw(c: Canvas) -> None:
        plate(c, 50, cy + 1, rx + 10, ry + 5, colour)
        scatter(c, n, 50, cy - 1, rx, ry, lambda x, y, i: item(c, x, y, i))
    return draw


def loose(item: Callable[[Canvas, float, float, int], None], n: int, rx: float = 30, ry: float = 7,
          cy: float = 84) -> Callable[[Canvas], None]:
    """A few of the goods spilled on the table in front of something."""
    def draw(c: Canvas) -> None:
        scatter(c, n, 50, cy, rx, ry, lambda x, y, i: item(c, x, y, i))
    return draw


def both(*parts: Callable[[Canvas], None]) -> Callable[[Canvas], None]:
    def draw(c: Canvas) -> None:
        for part in parts:
            part(c)
    return draw


# the items, as (canvas, x, y, index) drawers
def _stick(c: Canvas, x: float, y: float, i: int) -> None:
    charcoal_stick(c, x, y, c.rng.uniform(16, 22), c.rng.uniform(-25, 25))


def _lump(c: Canvas, x: float, y: float, i: int) -> None:
    charcoal_lump(c, x, y, c.rng.uniform(3, 4.5))


def _sweet_potato(red: bool, chunks: bool = False):
    colour = (204, 92, 44) if red else (214, 130, 52)

    def item(c: Canvas, x: float, y: float, i: int) -> None:
        if chunks:
            points = c.blob(x, y, c.rng.uniform(3.5, 5), vary(c.rng, dark(colour, 0.15), 10), corners=6, rough=0.25, squash=0.7)
            c.poly([(px + (x - px) * 0.3, py + (y - py) * 0.3 - 0.6) for px, py in points], vary(c.rng, colour, 10))
        else:
            strip(c, x, y, c.rng.uniform(13, 18), c.rng.uniform(2.6, 3.4), c.rng.uniform(-35, 35), vary(c.rng, colour, 12))
    return item


def _shoot(colour: Colour, width: float, length: float = 18, nodes: int = 3):
    def item(c: Canvas, x: float, y: float, i: int) -> None:
        strip(c, x, y, c.rng.uniform(length * 0.8, length * 1.1), width * c.rng.uniform(0.85, 1.15),
              c.rng.uniform(-40, 40), vary(c.rng, colour, 12), nodes=nodes)
    return item


def _shoot_slice(c: Canvas, x: float, y: float, i: int) -> None:
    colour = vary(c.rng, (196, 160, 96), 10)
    c.oval(x, y, 5, 3.2, c.rng.uniform(-30, 30), dark(colour, 0.2))
    c.oval(x - 0.2, y - 0.3, 4.4, 2.7, c.rng.uniform(-30, 30), colour)
    for k in range(3):
        c.line([(x - 3 + k * 1.6, y - 1.8), (x - 2.5 + k * 1.6, y + 1.6)], dark(colour, 0.18), 0.3)


def _vermicelli(c: Canvas) -> None:
    tray(c, 50, 71, 40, 16)
    for bx, by, ang in ((36, 64, -12), (60, 67, 8), (46, 74, -4)):
        a = math.radians(ang)
        for _ in range(70):
            off = c.rng.uniform(-4.5, 4.5)
            sx, sy = bx - math.sin(a) * off, by + math.cos(a) * off * 0.6
            length = c.rng.uniform(24, 28)
            c.line([(sx - math.cos(a) * length / 2, sy - math.sin(a) * length / 2),
                    (sx + math.cos(a) * length / 2 + c.rng.uniform(-1, 1), sy + math.sin(a) * length / 2)],
                   vary(c.rng, (150, 138, 128), 14), 0.35)
        c.capsule(bx, by, 10, 2.4, ang + 90, (190, 40, 36))


def _mushroom_gift(c: Canvas) -> None:
    tray(c, 50, 71, 40, 16)
    for x, y in ((34, 64), (48, 61), (63, 64)):
        shiitake(c, x, y, 5.5, flower=x != 48)
    for _ in range(5):
        fungus(c, c.rng.uniform(30, 45), c.rng.uniform(72, 77), 4)
    for _ in range(5):
        mushroom_side(c, c.rng.uniform(56, 68), c.rng.uniform(71, 78), 11, (110, 70, 40), (226, 206, 170))


def _veg_set(c: Canvas) -> None:
    tray(c, 50, 71, 40, 16)
    quarters = ((37, 65), (63, 65), (37, 76), (63, 76))
    drawers = (lambda x, y: _greens(c, x, y, 0), lambda x, y: _bean(c, x, y, 0),
               lambda x, y: _radish(c, x, y, 0), lambda x, y: kernel(c, x, y, 1.1))
    for (qx, qy), draw in zip(quarters, drawers, strict=True):
        scatter(c, 14, qx, qy, 8, 3.2, lambda x, y, i, draw=draw: draw(x, y))


def _greens(c: Canvas, x: float, y: float, i: int) -> None:
    """梅干菜: dark, crinkled, twisted dried leaves."""
    colour = vary(c.rng, (70, 52, 30), 10)
    a = c.rng.uniform(0, 360)
    points = [(x, y)]
    for _ in range(5):
        a += c.rng.uniform(-80, 80)
        points.append((points[-1][0] + math.cos(math.radians(a)) * 1.8, points[-1][1] + math.sin(math.radians(a)) * 1.2))
    c.line(points, colour, 1.3)
    c.line(points[1:4], light(colour, 0.2), 0.4)


def _bean(c: Canvas, x: float, y: float, i: int) -> None:
    colour = vary(c.rng, (104, 96, 52), 12)
    a = c.rng.uniform(0, 360)
    points = [(x, y)]
    for _ in range(6):
        a += c.rng.uniform(-35, 35)
        points.append((points[-1][0] + math.cos(math.radians(a)) * 2.6, points[-1][1] + math.sin(math.radians(a)) * 1.6))
    c.line(points, colour, 1.1)


def _radish(c: Canvas, x: float, y: float, i: int) -> None:
    colour = vary(c.rng, (222, 196, 140), 10)
    angle = c.rng.uniform(-40, 40)
    c.capsule(x, y, c.rng.uniform(4, 6), 2.2, angle, dark(colour, 0.18))
    c.capsule(x - 0.2, y - 0.3, 4, 1.5, angle, colour)


def _corn(c: Canvas) -> None:
    plate(c, 50, 72, 38, 15)
    scatter(c, 150, 50, 70, 28, 9, lambda x, y, i: kernel(c, x, y, 1.1))
    # a dried cob lying behind
    c.capsule(50, 57, 38, 9, -4, (206, 150, 40))
    for row in range(-2, 3):
        for k in range(12):
            kernel(c, 34 + k * 2.9, 57 + row * 1.6 - k * 0.2, 0.9)


def _tea_cup(brew: Colour, leaf_colour: Colour, flat: bool = False, flowers: Callable[[Canvas, float, float], None] | None = None):
    def draw(c: Canvas) -> None:
        # a glass of tea with leaves standing in it, dry leaves on a saucer
        plate(c, 34, 76, 26, 9, (244, 240, 230))
        scatter(c, 70, 34, 75, 18, 5, lambda x, y, i: (flowers(c, x, y) if flowers else tea_leaf(c, x, y, 4.5, vary(c.rng, leaf_colour, 12), curly=not flat)))
        gx, gy, gw, gh = 66, 58, 24, 30
        c.shadow(gx, gy + gh / 2, gw * 0.6, 2.5)
        c.rect(gx - gw / 2, gy - gh / 2, gx + gw / 2, gy + gh / 2, (226, 234, 230), radius=2)
        c.rect(gx - gw / 2 + 0.8, gy - gh / 2 + gh * 0.25, gx + gw / 2 - 0.8, gy + gh / 2 - 0.8, brew, radius=1.6)
        c.ellipse(gx, gy - gh / 2 + gh * 0.25, gw / 2 - 0.8, 1.6, light(brew, 0.2))
        for _ in range(6):  # leaves unfurled in the glass
            if flowers:
                flowers(c, gx + c.rng.uniform(-8, 8), gy + c.rng.uniform(-3, 12))
            else:
                leaf(c, gx + c.rng.uniform(-8, 8), gy + c.rng.uniform(-4, 12), 5, c.rng.uniform(60, 120), light(leaf_colour, 0.15), 0.35)
        c.ellipse(gx, gy - gh / 2, gw / 2, 1.8, None, outline=(190, 204, 200), width=0.5)
        c.shine_rect((gx - gw / 2 + 1.5, gy - gh / 2 + 2, gx - gw / 2 + 3.5, gy + gh / 2 - 2), 120)
    return draw


def _tea_bags(c: Canvas) -> None:
    plate(c, 50, 73, 36, 13)
    for x, y in ((38, 70), (56, 66), (50, 77), (64, 75)):
        c.poly([(x - 6, y + 4), (x + 6, y + 4), (x, y - 6)], (240, 236, 222))
        scatter(c, 14, x, y + 1, 3.5, 2, lambda px, py, i: tea_leaf(c, px, py, 1.8, vary(c.rng, (70, 104, 50), 10)))
        c.poly([(x - 6, y + 4), (x + 6, y + 4), (x, y - 6)], (255, 255, 255, 70))
        c.line([(x, y - 6), (x + 7, y - 14)], (230, 226, 210), 0.3)
        c.rect(x + 5, y - 17, x + 10, y - 12, (226, 180, 60), radius=0.6)
    for _ in range(10):
        osmanthus(c, c.rng.uniform(28, 72), c.rng.uniform(78, 86), 0.9)


def _honey(c: Canvas) -> None:
    jar(c, 36, 60, 26, 34, (220, 146, 30))
    # a honey dipper dripping into a small dish
    bowl(c, 70, 76, 12, (246, 244, 238), (226, 152, 34))
    c.line([(80, 52), (66, 66)], (176, 126, 70), 1.4)
    for k in range(5):
        c.ellipse(66 - k * 0.4, 66 + k * 0.5, 3 - abs(k - 2) * 0.5, 1.4, dark((176, 126, 70), 0.1 * (k % 2)))
    c.line([(65, 69), (65, 75)], (230, 160, 40), 0.8)
    c.shine((68, 73, 74, 76), 90)


def _oil(colour: Colour, fruit: bool = True):
    def draw(c: Canvas) -> None:
        bottle(c, 40, 55, 18, 48, colour, cap=(60, 90, 50), ink=(70, 90, 40))
        if fruit:  # camellia fruits, one split open with its seeds, and a white camellia flower
            for x, y in ((64, 78), (74, 74), (82, 80)):
                c.ellipse(x, y, 4.4, 4, (122, 84, 52))
                c.arc(x, y, 3.5, 3, 200, 300, (170, 130, 90), 0.5)
            for k in range(3):
                c.ellipse(61 + k * 3, 86, 1.6, 1.3, (70, 44, 26))
            flower(c, 70, 64, 6, (250, 250, 246), (236, 196, 60), 10)
        else:  # rapeseed: yellow flowers and small dark seeds
            for x, y in ((66, 66), (76, 70), (70, 60)):
                for k in range(4):
                    a = math.tau * k / 4 + 0.3
                    c.ellipse(x + math.cos(a) * 1.6, y + math.sin(a) * 1.6, 1.6, 1.6, (246, 206, 40))
                c.ellipse(x, y, 0.7, 0.7, (200, 150, 20))
            scatter(c, 60, 72, 82, 12, 3, lambda x, y, i: c.ellipse(x, y, 0.6, 0.6, vary(c.rng, (50, 36, 30), 8)))
    return draw


def _rice(colour: Colour):
    def draw(c: Canvas) -> None:
        bowl(c, 40, 70, 20, (248, 246, 240), light(colour, 0.1))
        scatter(c, 120, 40, 70, 17, 5, lambda x, y, i: grain(c, x, y, 0.9, colour))
        c.ellipse(40, 68, 14, 3.5, (255, 255, 255, 40))
        scatter(c, 60, 72, 84, 14, 3, lambda x, y, i: grain(c, x, y, 0.9, colour))
        for k in range(3):  # ears of rice
            ax = 70 + k * 4
            c.line([(ax, 78), (ax - 6 + k * 2, 50)], (176, 146, 70), 0.5)
            for s in range(8):
                t = s / 8
                px, py = ax + (-6 + k * 2) * t, 78 - 28 * t
                c.oval(px + 1.2, py - 1, 1.4, 0.7, -50, (214, 176, 80), 8)
                c.oval(px - 1.2, py - 0.5, 1.4, 0.7, 50, (206, 168, 74), 8)
    return draw


def _zongzi(c: Canvas) -> None:
    tray(c, 50, 72, 40, 15)
    for k, (x, y) in enumerate(((42, 64), (56, 67), (46, 74), (60, 77))):
        angle = -8 + k * 5
        c.capsule(x, y, 30, 6.5, angle, vary(c.rng, (70, 110, 50), 8))
        a = math.radians(angle)
        for s in range(-4, 5):  # the leaf's folds
            sx, sy = x + math.cos(a) * s * 3, y + math.sin(a) * s * 3
            c.line([(sx - 1.5, sy - 2.8), (sx + 1.5, sy + 2.8)], (56, 90, 40), 0.3)
        for s in (-2, 0, 2):  # the tying string
            sx, sy = x + math.cos(a) * s * 4.5, y + math.sin(a) * s * 4.5
            c.line([(sx, sy - 3.3), (sx + 0.6, sy + 3.3)], (230, 218, 180), 0.45)


def _rice_cake(c: Canvas) -> None:
    plate(c, 50, 72, 38, 14)
    for x, y in ((40, 64), (58, 64), (48, 72), (64, 74), (34, 74)):
        colour = vary(c.rng, (238, 196, 72), 6)
        c.rect(x - 9, y - 3.5 + 1.5, x + 9, y + 3.5 + 1.5, dark(colour, 0.18), radius=2.5)
        c.rect(x - 9, y - 3.5, x + 9, y + 3.5, colour, radius=2.5)
        c.shine_rect((x - 7, y - 3, x + 2, y - 1.8), 70)


def _ciba(c: Canvas) -> None:
    plate(c, 50, 72, 38, 14, (236, 228, 214))
    scatter(c, 7, 50, 69, 24, 7, lambda x, y, i: (
        c.ellipse(x, y + 0.8, 5.4, 4.4, (222, 214, 200)),
        c.ellipse(x, y, 5.2, 4.2, (250, 248, 242)),
        [c.ellipse(x + c.rng.uniform(-3.5, 3.5), y + c.rng.uniform(-2.5, 2.5), 0.5, 0.35, (150, 92, 40)) for _ in range(10)],
        c.arc(x, y, 3.4, 2.4, 200, 320, (160, 100, 46), 0.7)))


def _basket(c: Canvas) -> None:
    x, y, w, h = 50, 64, 60, 28
    c.shadow(x, y + h / 2, w * 0.55, 3)
    c.d.chord(c.p(x - w / 2, y - h, x + w / 2, y + h), 0, 180, fill=(188, 146, 86))
    for k in range(1, 8):  # the weave, horizontal rows
        yy = y + h * k / 8
        half = w / 2 * math.sqrt(max(0.0, 1 - (k / 8) ** 2))
        c.line([(x - half, yy), (x + half, yy)], (150, 112, 62), 0.45)
    for k in range(-8, 9):
        c.line([(x + k * 3.4, y), (x + k * 2.6, y + h * math.sqrt(max(0.0, 1 - (k / 9) ** 2)))], (164, 124, 72), 0.35)
    for fx, fy in ((38, 56), (50, 53), (62, 56), (44, 60), (57, 60)):  # oranges in it
        c.ellipse(fx, fy, 6, 6, vary(c.rng, (236, 140, 36), 10))
        c.shine((fx - 4, fy - 4, fx - 1, fy - 1), 90)
        c.ellipse(fx + 1, fy - 5, 0.8, 0.6, (90, 120, 50))
    c.ellipse(x, y, w / 2, 3.2, None, outline=(140, 100, 56), width=1.4)
    c.arc(x, y - 2, w * 0.4, 24, 190, 350, (164, 124, 72), 1.8)


def _pillow(c: Canvas, square: bool = False) -> None:
    x, y = 50, 62
    w, h = (40, 40) if square else (64, 30)
    grey = (86, 90, 92)
    c.shadow(x, y + h / 2, w * 0.55, 3)
    c.rect(x - w / 2, y - h / 2, x + w / 2, y + h / 2, dark(grey, 0.3), radius=h * 0.35)
    c.rect(x - w / 2 + 1, y - h / 2 + 0.8, x + w / 2 - 1, y + h / 2 - 1.5, grey, radius=h * 0.33)
    if square:  # a quilted seat cushion
        for k in range(1, 4):
            c.line([(x - w / 2 + 2, y - h / 2 + k * h / 4), (x + w / 2 - 2, y - h / 2 + k * h / 4)], dark(grey, 0.2), 0.4)
            c.line([(x - w / 2 + k * w / 4, y - h / 2 + 2), (x - w / 2 + k * w / 4, y + h / 2 - 2)], dark(grey, 0.2), 0.4)
    else:
        c.line([(x - w / 2 + 4, y), (x + w / 2 - 4, y)], dark(grey, 0.12), 0.3)
        c.arc(x, y, w * 0.3, h * 0.25, 200, 340, light(grey, 0.12), 0.6)
    c.rect(x + w / 2 - 12, y + h / 2 - 6, x + w / 2 - 4, y + h / 2 - 2, (240, 236, 226), radius=0.6)
    c.shine((x - w * 0.4, y - h * 0.45, x, y - h * 0.1), 60)
    scatter(c, 6, 50, 86, 26, 3, lambda px, py, i: charcoal_stick(c, px, py, 10, c.rng.uniform(-20, 20), 2.6))


def _insoles(c: Canvas) -> None:
    for x, flip in ((38, -1), (62, 1)):
        shape = []
        for k in range(40):
            t = math.tau * k / 40
            rx = 9.5 if math.sin(t) < 0 else 8
            ry = 26
            px = x + math.cos(t) * rx * (1 - 0.25 * max(0.0, math.sin(t))) + flip * 1.5 * math.sin(t) ** 2
            shape.append((px, 60 + math.sin(t) * ry))
        c.shadow(x, 84, 10, 2)
        c.poly(shape, (44, 44, 46))
        c.poly([(px + (x - px) * 0.1, py + (60 - py) * 0.06) for px, py in shape], (72, 72, 76))
        for r in range(-8, 9, 3):
            for q in range(-2, 3):
                c.ellipse(x + q * 2.6, 60 + r * 2.3, 0.35, 0.35, (36, 36, 38))
        c.rect(x - 4, 76, x + 4, 80, (200, 60, 50), radius=0.8)


def _ornament(c: Canvas) -> None:
    c.shadow(50, 80, 26, 3)
    c.rect(26, 74, 74, 82, (120, 76, 44), radius=1.5)
    c.rect(26, 74, 74, 76, (150, 100, 62), radius=1)
    peaks = [(28, 74), (34, 56), (39, 60), (47, 34), (54, 50), (60, 44), (66, 58), (72, 74)]
    c.poly(peaks, (34, 34, 36))
    c.poly([(39, 60), (47, 34), (50, 46), (44, 62)], (70, 72, 76))
    c.poly([(60, 44), (66, 58), (62, 60)], (70, 72, 76))
    for k in range(5):  # carved terraces
        c.line([(34 + k * 2, 66 - k * 2), (46 + k * 3, 64 - k * 4)], (82, 84, 88), 0.35)
    bamboo_leaves(c, 74, 60, 200)


def _vinegar(c: Canvas) -> None:
    bottle(c, 40, 56, 18, 46, (126, 62, 22), cap=(40, 40, 40), ink=(90, 60, 30))
    bowl(c, 70, 78, 11, (250, 248, 242), (110, 56, 24))
    scatter(c, 4, 70, 64, 8, 3, lambda x, y, i: charcoal_stick(c, x, y, 12, c.rng.uniform(-20, 20), 2.8))


def _soap(c: Canvas) -> None:
    plate(c, 50, 74, 36, 12, (226, 216, 196))
    for x, y in ((42, 64), (58, 66), (50, 72)):
        c.rect(x - 12, y - 5 + 2, x + 12, y + 5 + 2, (18, 18, 20), radius=3)
        c.rect(x - 12, y - 5, x + 12, y + 5, (46, 46, 50), radius=3)
        c.ellipse(x, y, 6, 2.8, (58, 58, 62))
        emblem(c, x, y, 2.2, (86, 88, 92))
        c.shine_rect((x - 10, y - 4.2, x + 6, y - 3.2), 60)
    bamboo_leaves(c, 72, 58, 200)


def _toothbrushes(c: Canvas) -> None:
    plate(c, 50, 72, 38, 13, (234, 230, 220))
    for k in range(4):
        y = 62 + k * 4.5
        c.capsule(48, y, 46, 3, -4, vary(c.rng, (206, 166, 106), 8))
        c.rect(66, y - 3.5, 76, y - 0.5, (24, 24, 26), radius=0.5)
        for s in range(8):
            c.line([(66.5 + s * 1.2, y - 3.6), (66.5 + s * 1.2, y - 1)], (60, 60, 64), 0.25)


def _towels(c: Canvas) -> None:
    for k, y in enumerate((72, 62, 52)):
        grey = (110, 112, 116) if k != 1 else (170, 172, 176)
        c.shadow(50, y + 9, 30, 2)
        c.rect(22, y - 6, 78, y + 8, dark(grey, 0.2), radius=6)
        c.rect(22, y - 7, 78, y + 6, grey, radius=6)
        for s in range(30):
            c.line([(23 + s * 1.85, y - 6), (23 + s * 1.85, y + 5)], dark(grey, 0.06), 0.2)
        c.rect(22, y + 1, 78, y + 3, light(grey, 0.35))
    scatter(c, 4, 50, 88, 22, 2, lambda x, y, i: charcoal_stick(c, x, y, 10, c.rng.uniform(-20, 20), 2.6))


def _patches(c: Canvas) -> None:
    for k in range(5):
        x, y = 30 + k * 9, 64 + (k % 2) * 6
        c.shadow(x, y + 8, 8, 1.5)
        c.rect(x - 6, y - 7.5, x + 6, y + 7.5, (246, 244, 238), radius=1.5)
        c.rect(x - 4.5, y - 5.5, x + 4.5, y + 5.5, (58, 52, 48), radius=1.5)
        c.rect(x - 4, y - 5, x + 4, y - 3.8, (90, 84, 80), radius=0.5)
    bottle(c, 80, 60, 10, 26, (126, 62, 22), cap=(40, 40, 40))


def _sachets(c: Canvas, cloth: Colour = (206, 190, 160), count: int = 1) -> None:
    if count == 1:
        sachet(c, 40, 62, 30, 34, cloth)
        scatter(c, 7, 68, 78, 14, 5, lambda x, y, i: _stick(c, x, y, i))
    else:
        for x, y, w in ((30, 62, 20), (50, 64, 22), (70, 62, 20))[:count]:
            sachet(c, x, y, w, 24, vary(c.rng, cloth, 10))
        scatter(c, 6, 50, 84, 24, 3, lambda x, y, i: _stick(c, x, y, i))


def _grill(c: Canvas) -> None:
    tray(c, 50, 72, 40, 15)
    rows = [(7, 66), (6, 60.5), (5, 55)]
    r = 3.7
    for n, y in rows:
        for k in range(n):
            briquette(c, 50 + (k - (n - 1) / 2) * r * 1.8, y, r)
    scatter(c, 7, 50, 80, 24, 3, lambda x, y, i: _lump(c, x, y, i))


def _flower_tea(item: Callable[[Canvas, float, float], None], brew: Colour):
    return _tea_cup(brew, (120, 120, 60), flowers=item)


# a look per kind of goods (goods picture, packaging picture)
SKY = (226, 232, 222)
CREAM = (238, 230, 214)
MINT = (222, 236, 226)
BLUSH = (242, 226, 220)
STONE = (220, 222, 224)


def _pouch(colour: Colour, inside: Callable[[Canvas, Box], None] | None, ink: Colour = (60, 96, 56)):
    def draw(c: Canvas) -> None:
        pouch(c, 50, 56, 44, 56, colour, inside, ink=ink)
    return draw


def _inside_pile(item: Callable[[Canvas, float, float, int], None], n: int):
    """Goods seen through a window (x0, y0, x1, y1) of their packaging, filling it."""
    def draw(g: Canvas, box: tuple[float, float, float, float]) -> None:
        cx, cy, rx, ry = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
        scatter(g, n, cx, cy, rx * 1.05, ry * 1.05, lambda x, y, i: item(g, x, y, i))
    return draw


def _box(colour: Colour, band: Colour = (214, 170, 80), window: Callable[[Canvas, Box], None] | None = None):
    def draw(c: Canvas) -> None:
        gift_box(c, 48, 60, 58, 42, colour, band, window=window)
    return draw


def _tin(colour: Colour, ink: Colour = (56, 92, 58)):
    def draw(c: Canvas) -> None:
        tin(c, 50, 58, 32, 42, colour, ink=ink)
    return draw


def _tag(goods: Callable[[Canvas], None]):
    def draw(c: Canvas) -> None:
        goods(c)
        hang_tag(c, 82, 40)
    return draw


def _with_front(goods: Callable[[Canvas], None], front: Callable[[Canvas], None]):
    return both(goods, front)


def _looks() -> dict[str, Look]:
    red_sp = pile_on_tray(_sweet_potato(True), 18)
    sp = pile_on_tray(_sweet_potato(False), 18)
    sp_chunks = pile_on_tray(_sweet_potato(False, chunks=True), 30)
    shoots = pile_on_tray(_shoot((200, 168, 96), 3.2), 16)
    stone_shoots = pile_on_tray(_shoot((170, 140, 80), 2.2, 16, 4), 20)
    shredded = pile_on_tray(_shoot((206, 176, 110), 1.1, 14, 0), 70)
    slices = pile_on_tray(_shoot_slice, 18)
    smoked = pile_on_tray(_shoot((120, 84, 48), 3.2), 16)
    bracken = pile_on_tray(lambda c, x, y, i: fern(c, x, y, 8), 14)
    flower_mush = pile_on_tray(lambda c, x, y, i: shiitake(c, x, y, 5.5, True), 11, 28, 9)
    log_mush = pile_on_tray(lambda c, x, y, i: shiitake(c, x, y, 5.5, False), 11, 28, 9)
    black_fungus = pile_on_plate(lambda c, x, y, i: fungus(c, x, y, 4.5), 16)
    tea_tree = pile_on_tray(lambda c, x, y, i: mushroom_side(c, x, y, 14, (104, 66, 38), (228, 210, 178)), 16)
    greens = pile_on_tray(_greens, 160)
    beans = pile_on_tray(_bean, 80)
    radish = pile_on_plate(_radish, 60)
    yinhou = _tea_cup((206, 214, 140), (74, 106, 54))
    flat = _tea_cup((214, 220, 150), (110, 140, 70), flat=True)
    white = _tea_cup((226, 228, 170), (170, 186, 104), flat=True)
    golden = _tea_cup((234, 226, 150), (200, 190, 80), flat=True)
    black = _tea_cup((150, 62, 30), (50, 36, 30))
    jumi = _flower_tea(lambda c, x, y: bud(c, x, y, 1.3, (176, 176, 80)), (220, 214, 140))
    chrys = _flower_tea(lambda c, x, y: flower(c, x, y, 3.4, (248, 244, 232), (230, 190, 50), 14), (232, 220, 150))
    honeys = _flower_tea(lambda c, x, y: honeysuckle(c, x, y, 5), (226, 214, 150))
    rose = _flower_tea(lambda c, x, y: bud(c, x, y, 1.8, (196, 70, 110)), (230, 170, 160))
    osm = _flower_tea(lambda c, x, y: osmanthus(c, x, y, 1.1), (236, 204, 120))
    honey = _honey
    bayberry = pile_on_plate(lambda c, x, y, i: berry(c, x, y, 3.4), 20)
    kiwi = pile_on_plate(lambda c, x, y, i: kiwi_slice(c, x, y, 4.6), 10)
    persim = pile_on_tray(lambda c, x, y, i: persimmon(c, x, y, 6.5), 8, 26, 8)
    camellia = _oil((218, 170, 40))
    rapeseed = _oil((232, 186, 34), fruit=False)
    rice = _rice((246, 242, 230))
    red_rice = _rice((150, 60, 50))

    gift_red, gift_green = (170, 40, 36), (60, 100, 60)
    return {
        "sachet": Look(lambda c: _sachets(c), _box((48, 52, 50), (200, 170, 110), window=_inside_pile(_stick, 10)), STONE),
        "pillow": Look(lambda c: _pillow(c), _tag(lambda c: _pillow(c)), STONE, (180, 150, 118)),
        "car_pack": Look(lambda c: _sachets(c, (70, 74, 72), 3), _box((40, 44, 42), (190, 60, 50)), STONE),
        "fridge_pack": Look(lambda c: _sachets(c, (226, 222, 212), 3), _box((236, 238, 236), (70, 130, 150)), MINT),
        "insoles": Look(_insoles, _box((232, 228, 220), (60, 60, 60)), STONE, (180, 150, 118)),
        "grill": Look(_grill, lambda c: gift_box(c, 48, 60, 62, 40, (176, 140, 96), (40, 40, 40), 0.45), CREAM),
        "ornament": Look(_ornament, _tag(_ornament), CREAM),
        "vinegar": Look(_vinegar, _box((96, 60, 34), (220, 190, 120)), CREAM),
        "soap": Look(_soap, _box((34, 34, 36), (120, 170, 90)), MINT),
        "toothbrush": Look(_toothbrushes, _box((226, 214, 190), (50, 50, 50)), MINT),
        "cushion": Look(lambda c: _pillow(c, square=True), _tag(lambda c: _pillow(c, square=True)), STONE, (180, 150, 118)),
        "towel": Look(_towels, _box((88, 90, 94), (230, 230, 230)), SKY),
        "foot_patch": Look(_patches, _box((240, 238, 232), (126, 62, 22)), BLUSH),
        "sweet_potato_red": Look(red_sp, _pouch((196, 80, 44), _inside_pile(_sweet_potato(True), 14)), CREAM),
        "sweet_potato": Look(sp, _pouch((214, 186, 140), _inside_pile(_sweet_potato(False), 14)), CREAM),
        "sweet_potato_chunks": Look(sp_chunks, _pouch((166, 128, 86), _inside_pile(_sweet_potato(False, True), 22)), CREAM),
        "vermicelli": Look(_vermicelli, _pouch((226, 214, 190), _vermicelli_inside), CREAM),
        "sweet_potato_gift": Look(red_sp, _box(gift_red, window=_inside_pile(_sweet_potato(True), 14)), BLUSH),
        "stone_shoots": Look(stone_shoots, _pouch((70, 110, 70), _inside_pile(_shoot((170, 140, 80), 2.2, 16, 4), 14)), MINT),
        "shredded_shoots": Look(shredded, _pouch((200, 176, 130), _inside_pile(_shoot((206, 176, 110), 1.1, 14, 0), 50)), MINT),
        "shoot_slices": Look(slices, _pouch((90, 130, 80), _inside_pile(_shoot_slice, 14)), MINT),
        "smoked_shoots": Look(smoked, _pouch((120, 90, 60), _inside_pile(_shoot((120, 84, 48), 3.2), 12)), CREAM),
        "shoot_gift": Look(shoots, _box(gift_green, window=_inside_pile(_shoot((200, 168, 96), 3.2), 12)), MINT),
        "bracken": Look(bracken, _pouch((96, 120, 70), _inside_pile(lambda c, x, y, i: fern(c, x, y, 7), 10)), MINT),
        "flower_shiitake": Look(flower_mush, _pouch((110, 70, 40), _inside_pile(lambda c, x, y, i: shiitake(c, x, y, 5, True), 8)), CREAM),
        "shiitake": Look(log_mush, _pouch((190, 160, 120), _inside_pile(lambda c, x, y, i: shiitake(c, x, y, 5, False), 8)), CREAM),
        "black_fungus": Look(black_fungus, _pouch((40, 40, 40), _inside_pile(lambda c, x, y, i: fungus(c, x, y, 4), 12),
                                                    ink=(170, 40, 36)), STONE),
        "tea_tree_mushroom": Look(tea_tree, _pouch((170, 120, 80), _inside_pile(lambda c, x, y, i: mushroom_side(c, x, y, 12, (104, 66, 38), (228, 210, 178)), 10)), CREAM),
        "mushroom_gift": Look(_mushroom_gift, _box(gift_red, window=_inside_pile(lambda c, x, y, i: shiitake(c, x, y, 4.5, i % 2 == 0), 14)), BLUSH),
        "mustard_greens": Look(greens, _pouch((110, 80, 50), _inside_pile(_greens, 120)), CREAM),
        "long_beans": Look(beans, _pouch((100, 120, 70), _inside_pile(_bean, 60)), MINT),
        "radish": Look(radish, _pouch((236, 226, 200), _inside_pile(_radish, 50)), CREAM),
        "corn": Look(_corn, _pouch((230, 190, 60), _inside_pile(lambda c, x, y, i: kernel(c, x, y, 1.2), 110)), CREAM),
        "veg_set": Look(_veg_set, _box((150, 110, 70), window=_inside_pile(_greens, 60)), CREAM),
        "yinhou": Look(yinhou, _tin((60, 100, 60)), MINT),
        "yinhou_bag": Look(yinhou, _pouch((80, 120, 70), _inside_pile(lambda c, x, y, i: tea_leaf(c, x, y, 4, vary(c.rng, (74, 106, 54), 12)), 60)), MINT),
        "green_tea": Look(yinhou, _pouch((220, 230, 200), _inside_pile(lambda c, x, y, i: tea_leaf(c, x, y, 4, vary(c.rng, (84, 112, 60), 12)), 60)), MINT),
        "tea_gift": Look(yinhou, lambda c: (gift_box(c, 40, 62, 50, 36, gift_green), tin(c, 76, 62, 18, 26, (60, 100, 60))), MINT),
        "black_tea": Look(black, _tin((140, 40, 34), (140, 40, 34)), BLUSH),
        "flat_tea": Look(flat, _tin((110, 150, 90)), MINT),
        "white_tea": Look(white, _tin((236, 236, 226)), MINT),
        "golden_tea": Look(golden, _tin((214, 176, 60), (120, 90, 20)), CREAM),
        "tea_bags": Look(_tea_bags, _box((236, 196, 80), (120, 80, 20)), CREAM),
        "chrysanthemum_rice": Look(jumi, _tin((200, 190, 90), (90, 100, 40)), CREAM),
        "chrysanthemum": Look(chrys, _tin((246, 244, 236), (200, 150, 30)), CREAM),
        "honeysuckle": Look(honeys, _tin((226, 210, 150), (110, 120, 60)), CREAM),
        "rose": Look(rose, _tin((210, 90, 120), (170, 60, 90)), BLUSH),
        "osmanthus": Look(osm, _tin((236, 170, 60), (150, 90, 20)), CREAM),
        "honey": Look(honey, lambda c: (jar(c, 36, 58, 26, 36, (220, 146, 30)), jar(c, 66, 62, 22, 28, (206, 126, 26))), CREAM),
        "honey_gift": Look(honey, lambda c: (gift_box(c, 44, 62, 56, 38, (200, 140, 30), (150, 40, 30)),), CREAM),
        "bayberry": Look(bayberry, _pouch((130, 30, 44), _inside_pile(lambda c, x, y, i: berry(c, x, y, 3), 12), ink=(130, 30, 44)), BLUSH),
        "kiwi": Look(kiwi, _pouch((150, 180, 80), _inside_pile(lambda c, x, y, i: kiwi_slice(c, x, y, 4.4), 8)), MINT),
        "persimmon": Look(persim, _pouch((220, 130, 50), _inside_pile(lambda c, x, y, i: persimmon(c, x, y, 5.5), 6)), CREAM),
        "camellia_oil": Look(camellia, lambda c: (bottle(c, 50, 56, 20, 52, (218, 170, 40), cap=(60, 90, 50), ink=(70, 90, 40)),), CREAM),
        "camellia_jug": Look(camellia, lambda c: (jug(c, 50, 58, 40, 50, (218, 170, 40)),), CREAM),
        "camellia_gift": Look(camellia, lambda c: (gift_box(c, 46, 64, 60, 34, gift_red),
                                                   bottle(c, 80, 56, 12, 38, (218, 170, 40), cap=(60, 90, 50))), BLUSH),
        "rice": Look(rice, lambda c: (sack(c, 50, 58, 44, 50, inside=(246, 242, 230)),), CREAM),
        "red_rice": Look(red_rice, lambda c: (sack(c, 50, 58, 44, 50, (226, 206, 170), (120, 60, 40), inside=(150, 60, 50)),), CREAM),
        "rapeseed_oil": Look(rapeseed, lambda c: (jug(c, 50, 58, 40, 50, (232, 186, 34)),), CREAM),
        "zongzi": Look(_zongzi, _pouch((240, 236, 224), _zongzi_inside), MINT),
        "rice_cake": Look(_rice_cake, _pouch((232, 200, 90), None), CREAM),
        "ciba": Look(_ciba, _box((240, 236, 226), (150, 92, 40)), BLUSH),
        "basket": Look(_basket, _tag(_basket), CREAM),
    }


def _vermicelli_inside(g: Canvas, box: tuple[float, float, float, float]) -> None:
    for _ in range(160):
        x = g.rng.uniform(box[0], box[2])
        g.line([(x, box[1] - 2), (x + g.rng.uniform(-2, 2), box[3] + 2)], vary(g.rng, (150, 138, 128), 14), 0.35)
    middle = (box[1] + box[3]) / 2
    g.rect(box[0] - 2, middle - 2, box[2] + 2, middle + 2, (190, 40, 36))


def _zongzi_inside(g: Canvas, box: tuple[float, float, float, float]) -> None:
    cx, h = (box[0] + box[2]) / 2, box[3] - box[1]
    for y in (box[1] + h * 0.3, box[1] + h * 0.72):
        g.capsule(cx, y, box[2] - box[0], h * 0.4, 0, (70, 110, 50))
        for s in (-2, 0, 2):
            g.line([(cx + s * 5, y - h * 0.2), (cx + s * 5 + 0.6, y + h * 0.2)], (230, 218, 180), 0.6)


#: what each seeded product looks like, by SKU (see seed/data.py)
KINDS: dict[str, str] = {
    "SC-BC-001": "sachet", "SC-BC-002": "pillow", "SC-BC-003": "car_pack", "SC-BC-004": "fridge_pack",
    "SC-BC-005": "insoles", "SC-BC-006": "grill", "SC-BC-007": "ornament", "SC-BC-008": "vinegar",
    "SC-BC-009": "soap", "SC-BC-010": "toothbrush", "SC-BC-011": "cushion", "SC-BC-012": "towel",
    "SC-BC-013": "foot_patch",
    "SC-DG-001": "sweet_potato_red", "SC-DG-002": "sweet_potato", "SC-DG-003": "sweet_potato_chunks",
    "SC-DG-004": "vermicelli", "SC-DG-005": "sweet_potato_gift", "SC-DG-006": "stone_shoots",
    "SC-DG-007": "shredded_shoots", "SC-DG-008": "shoot_slices", "SC-DG-009": "smoked_shoots",
    "SC-DG-010": "shoot_gift", "SC-DG-011": "bracken", "SC-DG-012": "flower_shiitake", "SC-DG-013": "shiitake",
    "SC-DG-014": "black_fungus", "SC-DG-015": "tea_tree_mushroom", "SC-DG-016": "mushroom_gift",
    "SC-DG-017": "mustard_greens", "SC-DG-018": "long_beans", "SC-DG-019": "radish", "SC-DG-020": "corn",
    "SC-DG-021": "veg_set",
    "SC-TE-001": "yinhou", "SC-TE-002": "yinhou_bag", "SC-TE-003": "green_tea", "SC-TE-004": "tea_gift",
    "SC-TE-005": "black_tea", "SC-TE-006": "flat_tea", "SC-TE-007": "white_tea", "SC-TE-008": "golden_tea",
    "SC-TE-009": "tea_bags", "SC-TE-010": "chrysanthemum_rice", "SC-TE-011": "chrysanthemum",
    "SC-TE-012": "honeysuckle", "SC-TE-013": "rose", "SC-TE-014": "osmanthus",
    "SC-HP-001": "honey", "SC-HP-002": "honey", "SC-HP-003": "honey_gift", "SC-HP-004": "bayberry",
    "SC-HP-005": "kiwi", "SC-HP-006": "persimmon",
    "SC-GO-001": "camellia_oil", "SC-GO-002": "camellia_jug", "SC-GO-003": "camellia_gift", "SC-GO-004": "rice",
    "SC-GO-005": "red_rice", "SC-GO-006": "rapeseed_oil",
    "SC-OL-001": "zongzi", "SC-OL-002": "rice_cake", "SC-OL-003": "ciba", "SC-OL-004": "basket",
}
#: a product not in KINDS (added later) is drawn as the first kind of its category
BY_CATEGORY = {"bamboo-charcoal": "sachet", "dried-goods": "shiitake", "tea": "green_tea",
               "honey-and-preserves": "honey", "grains-and-oils": "rice", "other-local": "basket"}

_LOOKS: dict[str, Look] = {}


def kind_of(sku: str, category_slug: str = "") -> str:
    return KINDS.get(sku) or BY_CATEGORY.get(category_slug, "basket")


def draw(kind: str, view: int, seed: str) -> Image.Image:
    """The picture of ``kind``: view 0 the goods, view 1 the packaging; ``seed`` fixes every
    random choice (the same seed, the same picture)."""
    if not _LOOKS:
        _LOOKS.update(_looks())
    look = _LOOKS[kind]
    rng = random.Random(hashlib.sha256(f"{seed}:{view}".encode()).digest())
    canvas = Canvas(rng)
    if view == 0:
        canvas.backdrop(look.wall, look.table)
        look.goods(canvas)
    else:
        canvas.backdrop(light(look.wall, 0.15), light(look.table, 0.12), horizon=66)
        look.package(canvas)
    return canvas.image()


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


_made: dict[tuple[str, int], bytes] = {}


def pictures(sku: str, category_slug: str = "", cache: Path | None = None) -> list[bytes]:
    """The two JPEGs of a product (goods, packaging). Products of one kind share their pictures
    (seeded by the kind), kept for the process and, given a ``cache`` folder, on disk (drawing
    takes a fifth of a second a picture; reading one back, nothing)."""
    kind = kind_of(sku, category_slug)
    out = []
    for view in (0, 1):
        if (kind, view) not in _made:
            cached = cache / f"v{VERSION}-{kind}-{view}.jpg" if cache is not None else None
            if cached is not None and cached.is_file():
                _made[(kind, view)] = cached.read_bytes()
            else:
                _made[(kind, view)] = jpeg(draw(kind, view, kind))
                if cached is not None:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    partial = cached.with_name(f".{cached.name}.{random.getrandbits(32):08x}")
                    partial.write_bytes(_made[(kind, view)])
                    partial.replace(cached)
        out.append(_made[(kind, view)])
    return out


def storage_key(sku: str, view: int) -> str:
    """The fixed random part of a demo photo's id (see uploads.store): the same file each load."""
    return hashlib.sha256(f"shanhuo-demo-photo:{VERSION}:{sku}:{view}".encode()).hexdigest()[:32]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m seed.illustrations OUT_DIR", file=sys.stderr)
        return 2
    from . import data

    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for product in data.PRODUCTS:
        for view, picture in enumerate(pictures(product["sku"], product["category"]), start=1):
            (out / f"{product['sku']}-{view}.jpg").write_bytes(picture)
    print(f"{2 * len(data.PRODUCTS)} pictures of {len({kind_of(p['sku']) for p in data.PRODUCTS})} kinds in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
