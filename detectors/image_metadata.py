"""Who claims a picture: EXIF, IPTC and XMP copyright, artist, credit and source fields.

Read from the header of the open file (Pillow), never from the pixels. Values are flattened to
short single-line strings: metadata is attacker-controlled text like any caption.
"""

from __future__ import annotations

import re

from PIL import Image, IptcImagePlugin

_EXIF_TAGS = {0x013B: "artist", 0x8298: "copyright"}
_IPTC_TAGS = {(2, 80): "artist", (2, 110): "credit", (2, 115): "source", (2, 116): "copyright"}
_XMP_TAGS = {
    "dc:creator": "artist",
    "dc:rights": "copyright",
    "photoshop:Credit": "credit",
    "photoshop:Source": "source",
    "xmpRights:WebStatement": "rights_url",
    "plus:LicensorName": "licensor",
}
_MAX_VALUE = 300
_MAX_XMP = 256 * 1024  # a bigger XMP packet is not read (regexes over megabytes of hostile text)


def read_metadata(im: Image.Image) -> dict[str, str]:
    """Rights-related metadata of an open image; a broken block is noted, never raised."""
    found: dict[str, str] = {"format": str(im.format or ""), "mode": im.mode}
    try:
        exif = im.getexif()
        for tag, key in _EXIF_TAGS.items():
            _add(found, key, exif.get(tag))
    except Exception:  # a broken EXIF block must not stop the analysis of the pixels
        found["metadata_error"] = "unreadable EXIF"
    try:
        iptc = IptcImagePlugin.getiptcinfo(im) or {}  # type: ignore[arg-type]
        for iptc_tag, key in _IPTC_TAGS.items():
            _add(found, key, iptc.get(iptc_tag))
    except Exception:
        found["metadata_error"] = "unreadable IPTC"
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, (bytes, str)) and len(xmp) <= _MAX_XMP:
        text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
        for xmp_tag, key in _XMP_TAGS.items():
            _add(found, key, _xmp_value(text, xmp_tag))
    return found


def _add(found: dict[str, str], key: str, value: object) -> None:
    if value is None or key in found:
        return
    if isinstance(value, (list, tuple)):
        value = b"; ".join(v if isinstance(v, bytes) else str(v).encode() for v in value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = " ".join(str(value).replace("\x00", " ").split())[:_MAX_VALUE]
    if text:
        found[key] = text


def _xmp_value(xmp: str, tag: str) -> str | None:
    """The text of an XMP property, whether written as an attribute or as (rdf:li) elements."""
    attribute = re.search(rf'{re.escape(tag)}="([^"]*)"', xmp)
    if attribute:
        return attribute.group(1)
    element = re.search(rf"<{re.escape(tag)}[^>]*>(.*?)</{re.escape(tag)}>", xmp, re.S)
    if not element:
        return None
    items = re.findall(r"<rdf:li[^>]*>(.*?)</rdf:li>", element.group(1), re.S)
    raw = "; ".join(items) if items else element.group(1)
    return re.sub(r"<[^>]+>", " ", raw)
