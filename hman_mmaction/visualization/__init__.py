"""What HM-AN learned, drawn: attention heat-maps on the sampled frames, the
per-layer boundary timeline, an annotated video and a JSON of the sub-action
segments (``tools/visualize_hman.py``)."""
from .boundary_raster import plot_boundary_raster, raster_rows
from .figures import (attention_grid_size, boundary_figure_inches, grid_layout,
                      plot_attention_grid, plot_boundaries)
from .overlay import attention_on_frame, attention_overlay, cell_box
from .segments import segments_from_boundaries, step_frame_spans, step_runs
from .trace import HMANTrace
from .video import read_frames, write_annotated_video
from .visualize import (load_class_names, output_paths, run_model,
                        visualize_video, write_outputs)

__all__ = [
    'HMANTrace', 'attention_grid_size', 'attention_on_frame',
    'boundary_figure_inches', 'attention_overlay', 'cell_box', 'grid_layout',
    'load_class_names', 'output_paths', 'plot_attention_grid',
    'plot_boundaries', 'plot_boundary_raster', 'raster_rows', 'read_frames',
    'run_model', 'segments_from_boundaries', 'step_frame_spans', 'step_runs',
    'visualize_video', 'write_annotated_video', 'write_outputs'
]
