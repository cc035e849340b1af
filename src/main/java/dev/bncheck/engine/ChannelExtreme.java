package dev.bncheck.engine;

/** The channel where a per-channel metric is worst, and its value there. */
public record ChannelExtreme(int channel, double value) {}
