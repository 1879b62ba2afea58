"""Files written for people and programs: atomically, and in the formats the project shares.

  atomic   atomic_write, atomic_write_all, atomic_savefig, figure_files: a reader sees the old
           file or the new one, never half of one; the files of one result replace the old ones
           as a group; a write that fails is seli_exact.errors.SeliOutputError
  tables   csv_text: the one CSV writer of the tables behind Figs 2-4 and the sweeps
"""
