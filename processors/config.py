"""The pipeline's domain configuration, built once from the settings."""

from functools import cache

from config.settings import settings
from processors.pipeline import PipelineConfig
from processors.taxonomy import load_taxonomy
from processors.windows import WindowSpec


@cache
def pipeline_config() -> PipelineConfig:
    p = settings.pipeline
    return PipelineConfig(
        taxonomy=load_taxonomy(p.thresholds_file, with_shipped=not p.journeys_only),
        windows=(
            WindowSpec("live", p.live_window, p.live_step),
            WindowSpec("long", p.long_window, p.long_step),
        ),
    )
