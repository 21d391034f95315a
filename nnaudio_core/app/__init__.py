"""The ``nnaudio`` command-line application, built on the library.

This layer reads and resamples audio files, draws pictures, runs the resumable folder extraction
and parses the command line. It depends on the core (:mod:`nnaudio_core` and its transforms);
the core never imports it. Its optional packages (soundfile, matplotlib, tqdm: the ``cli`` extra)
are imported only when a command needs them.
"""
