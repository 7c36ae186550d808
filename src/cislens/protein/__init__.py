"""The protein branch: statistical models of protein MSAs and their interpretation.

Modules, one job each: ``msa`` (read, encode, filter, weight), ``structure`` (true contacts), ``dms``
(mutational scans), ``pssm`` / ``potts`` / ``mg`` / ``factored_attention`` / ``vae`` (models; each
``fit(seqs, weights, ...)``), ``pll`` (the shared pseudo-likelihood's penalties and checks), ``plm``
and ``plm_kernel`` (the Potts fit in compiled numba loops), ``fit`` (every TensorFlow fit: the
pseudo-likelihood data term and optimiser with autodiff, factored attention, VAE),
``params`` (the ``PottsModel`` they return, energies, files), ``contacts`` (contact maps, APC,
precision), ``effects`` (mutation effects, Spearman), ``simulate`` (planted models, Gibbs sampling),
``plots`` and ``run`` (the rule-level steps). TensorFlow is imported only inside ``fit``'s functions.
"""
