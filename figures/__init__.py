"""Every figure of the project, drawn with matplotlib and written as PNG and PDF beside the data
behind it (JSON or CSV), each group of files atomically (seli_io.atomic).

  fig1      make_fig1, fig1_coordinates, mean_scale     Fig 1: the SEL matrix, SELI beside ETF
  fig2      plot_fig2, fig2_table, final_table          Fig 2: deep nets, distances over epochs
  fig3      draw_fig3, write_fig3                       Fig 3: the regularization path
  fig4      plot_fig4, fig4_table                       Fig 4: SGD on the UFM, distances over epochs
  longtail  make_longtail, longtail_numbers             the SELI geometry of long tails
  measure   measurement_figure, plot_measurement        `seli measure --out`: norms and Grams

The numbers come from seli_exact (the mathematics), training (the runs) and measurement (a
trained network's report); nothing here computes a quantity a claim judges, except the
coordinates a figure draws (fig1_coordinates, longtail_numbers), which the tests judge.
Import the module you need (`from figures.fig1 import make_fig1`): matplotlib loads only then.
"""
