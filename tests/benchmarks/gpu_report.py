"""The GPU benchmark's report: the issue's targets checked against the figures, and the printed summary.

Kept apart from `bench_gpu.py` (which builds, runs and times) so the pass/fail rules read on their own.
"""

from __future__ import annotations

import json
from pathlib import Path


def brief(section: dict) -> str:
    if "skipped" in section or "error" in section:
        return section.get("skipped") or section.get("error")
    ours = section.get("ours", {})
    base = section.get("diffusers", {})
    return (f"ours {ours.get('s_per_image')} s/img ({ours.get('steps_per_s')} steps/s), diffusers "
            f"{base.get('s_per_image')} s/img, speedup {section.get('speedup')}, "
            f"PSNR {section.get('psnr_vs_diffusers')}")


def targets(sections: dict, warm: dict) -> dict:
    """Pass/fail of the issue's targets (None when the figure is missing)."""
    def get(section: dict, *keys):
        for key in keys:
            if not isinstance(section, dict) or key not in section:
                return None
            section = section[key]
        return section

    main = sections.get("sd15_cn", {})
    warm_main = warm.get("sd15_cn", {})
    compiles = [get(s, "ours", "accel", "compile", "foreground_compiles") for s in [*sections.values(),
                                                                                    *warm.values()]]
    compiles = [c for c in compiles if c is not None]
    psnrs = [s.get("psnr_vs_diffusers") for s in sections.values() if isinstance(s, dict)]
    psnrs = [float("inf") if p == "inf" else p for p in psnrs if p is not None]

    def check(value, test):
        return None if value is None else bool(test(value))

    return {
        "sd15_cn_speedup_ge_3": check(main.get("speedup"), lambda v: v >= 3.0),
        "sd15_cn_steps_per_s_gt_73": check(get(main, "ours", "steps_per_s"), lambda v: v > 73),
        "first_image_cold_lt_60s": check(get(main, "ours", "first_image_after_start_s"), lambda v: v < 60),
        "first_image_warm_lt_15s": check(get(warm_main, "ours", "first_image_after_start_s"), lambda v: v < 15),
        "no_generation_waited_for_a_compile": check(compiles or None, lambda v: max(v) == 0),
        "live_frame_lt_100ms": check(get(sections.get("live", {}), "ours", "live_frame_s"), lambda v: v < 0.1),
        "psnr_ge_30db": check(psnrs or None, lambda v: min(v) >= 30.0),
    }


def print_summary(report: dict, path: Path) -> None:
    print(f"\ndevice: {report['device']}; torch {report['torch']}; diffusers {report.get('diffusers')}; "
          f"{'tiny models' if report['tiny'] else 'full-size random-weight models'}; wall {report['wall_s']} s")
    for name, section in report["sections"].items():
        print(f"{name:9s} {brief(section)}")
        ours = section.get("ours", {}) if isinstance(section, dict) else {}
        if ours:
            compile_status = (ours.get("accel") or {}).get("compile") or {}
            print(f"{'':9s} first image {ours.get('first_image_s')} s (after start "
                  f"{ours.get('first_image_after_start_s')}), compile {compile_status.get('state')} "
                  f"{compile_status.get('seconds')} s, peak {ours.get('peak_gb')} GB, live frame "
                  f"{ours.get('live_frame_s')}, warm: {section.get('warm', {}).get('first_image_after_start_s')} s "
                  f"first image, compile ready after {section.get('warm', {}).get('compile_ready_after_start_s')} s")
    print("targets:", json.dumps(report["targets"]))
    print(f"wrote {path}")
