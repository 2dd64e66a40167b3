namespace FraudActors.Tooling.Drill;

/// <summary>One sample of a figure over a soak: seconds since the soak's start, and the value.</summary>
public readonly record struct SoakPoint(double Seconds, double Value);

/// <summary>
/// What <see cref="Growth.Judge"/> found for one figure. <see cref="Judged"/> is false when there
/// were too few samples after the warm-up to tell; such a figure fails the soak too, since
/// nothing was shown.
/// </summary>
public sealed record GrowthVerdict(string Figure, string Unit, bool Judged, bool Grows, int Samples, double First, double Middle, double Last, double Threshold)
{
    public double Change => Last - Middle;

    public bool Passed => Judged && !Grows;

    public override string ToString() => !Judged
        ? string.Create(CultureInfo.InvariantCulture, $"{Figure}: not judged, {Samples} samples after the warm-up (at least {Growth.MinSamples} needed)")
        : string.Create(
            CultureInfo.InvariantCulture,
            $"{Figure}: {(Grows ? "KEEPS GROWING" : "levels off")} (thirds {First:0.#}, {Middle:0.#}, {Last:0.#} {Unit}: last {Change:+0.#;-0.#;0} {Unit}, threshold {Threshold:0.#} {Unit}; {Samples} samples)");
}

/// <summary>
/// The soak's verdict on one figure over time (memory, lag, checkpoint duration): does it show
/// growth that does not level off? Pure, so it is tested on synthetic series.
/// <para>
/// The first <see cref="WarmupShare"/> of the run is a warm-up (JIT, caches, the user population
/// filling in) and is not judged. The rest is cut in thirds by sample; the figure keeps growing
/// when the median of the last third exceeds the median of the middle third by more than a
/// threshold, and the middle third's exceeds the first's by more than half of it: a rise that
/// goes on across the run, as a leak's or an overloaded node's lag does, not a bump at its end
/// that is gone by the next sample. The threshold is the largest of: an absolute floor (what is
/// too small to matter for that figure), a share of its level (<see cref="RelativeTolerance"/>),
/// and twice its sample-to-sample noise (the median of the absolute differences of successive
/// samples). Medians and that noise measure make a sawtooth (a GC heap between collections, lag
/// between checkpoint commits) level, while a ramp rises by far more between the thirds than
/// from one sample to the next. Growth too slow to clear those bounds within the run, or that
/// starts only in its last half, is not detected: a longer soak sees it.
/// </para>
/// </summary>
public static class Growth
{
    public const double WarmupShare = 0.25;
    public const double RelativeTolerance = 0.05;
    public const double NoiseFactor = 2;

    /// <summary>Samples needed after the warm-up: two per third at least, so each median means something.</summary>
    public const int MinSamples = 6;

    /// <param name="figure">What is judged, as the report names it (e.g. "lag", "working set of node1").</param>
    /// <param name="unit">The unit of the values, for the report.</param>
    /// <param name="points">The samples in time order; non-finite values (a scrape that failed) are left out.</param>
    /// <param name="floor">The least rise that matters for this figure, in its unit.</param>
    public static GrowthVerdict Judge(string figure, string unit, IReadOnlyList<SoakPoint> points, double floor)
    {
        var usable = points.Where(p => double.IsFinite(p.Value)).ToList();
        if (usable.Count == 0)
        {
            return new GrowthVerdict(figure, unit, Judged: false, Grows: false, 0, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        // The warm-up is the run's first share, whichever of its samples failed: a figure that
        // is missing its first samples has the same warm-up as the others, not a later one.
        var start = points[0].Seconds + (WarmupShare * (points[^1].Seconds - points[0].Seconds));
        var judged = usable.Where(p => p.Seconds >= start).Select(p => p.Value).ToList();
        if (judged.Count < MinSamples)
        {
            return new GrowthVerdict(figure, unit, Judged: false, Grows: false, judged.Count, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var third = judged.Count / 3;
        var first = Median(judged.Skip(judged.Count - (3 * third)).Take(third));
        var middle = Median(judged.Skip(judged.Count - (2 * third)).Take(third));
        var last = Median(judged.Skip(judged.Count - third));
        var later = judged.Skip(judged.Count - (2 * third)).ToList();
        var noise = Median(later.Zip(later.Skip(1), (a, b) => Math.Abs(b - a)));
        var threshold = Math.Max(floor, Math.Max(RelativeTolerance * Math.Abs(last), NoiseFactor * noise));
        var grows = last - middle > threshold && middle - first > threshold / 2;
        return new GrowthVerdict(figure, unit, Judged: true, grows, judged.Count, first, middle, last, threshold);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var half = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
    }
}
