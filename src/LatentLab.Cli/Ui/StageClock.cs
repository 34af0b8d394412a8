using System.Diagnostics;
using System.Globalization;

namespace LatentLab.Cli.Ui;

/// <summary>Wall time by stage of a long command (compare): each stage runs until the next begins, so the stages add up
/// to the time measured. A stage is a group ("evaluation") and a part reported inside it ("IWAE k=100"); the summary
/// gives each group's total and its parts, largest first.</summary>
public sealed class StageClock
{
    readonly Dictionary<(string Group, string Part), double> _seconds = [];
    readonly List<string> _groups = [];
    readonly Stopwatch _clock = Stopwatch.StartNew();
    (string Group, string Part)? _current;
    double _since;

    /// <summary>Ends the current stage and begins <paramref name="group"/>'s <paramref name="part"/>. A progress text
    /// ("IWAE k=100: 1,984/10,000 images", "comparison: samples") is cut to its stage: the text before the first ": ",
    /// or after "comparison: ".</summary>
    public void Enter(string group, string part = "")
    {
        const string comparison = "comparison: ";
        if (part.StartsWith(comparison, StringComparison.Ordinal)) part = part[comparison.Length..];
        else if (part.IndexOf(": ", StringComparison.Ordinal) is var colon and > 0) part = part[..colon];
        if (_current == (group, part)) return;
        Stop();
        if (!_groups.Contains(group)) _groups.Add(group);
        _current = (group, part);
    }

    /// <summary>Ends the current stage; the time until the next <see cref="Enter"/> belongs to no stage.</summary>
    public void Stop()
    {
        double now = _clock.Elapsed.TotalSeconds;
        if (_current is { } stage) _seconds[stage] = _seconds.GetValueOrDefault(stage) + now - _since;
        _current = null;
        _since = now;
    }

    /// <summary>Counts <paramref name="seconds"/> to a stage measured elsewhere (a child process's).</summary>
    public void Add(string group, string part, double seconds)
    {
        if (!_groups.Contains(group)) _groups.Add(group);
        _seconds[(group, part)] = _seconds.GetValueOrDefault((group, part)) + seconds;
    }

    /// <summary>Every stage's seconds so far, for <see cref="Add"/> in another process.</summary>
    public IReadOnlyList<(string Group, string Part, double Seconds)> Stages()
    {
        Stop();
        return _groups.SelectMany(g => _seconds.Where(kv => kv.Key.Group == g).Select(kv => (g, kv.Key.Part, kv.Value))).ToList();
    }

    /// <summary>Seconds spent in <paramref name="group"/>, all its parts.</summary>
    public double Seconds(string group) => _seconds.Where(kv => kv.Key.Group == group).Sum(kv => kv.Value);

    /// <summary>One line: "training 531.2 s; evaluation 62.1 s (IWAE k=100 30.2, Fréchet distances 20.1); ...".</summary>
    public string Summary()
    {
        Stop();
        static string S(double s) => s.ToString("0.0", CultureInfo.InvariantCulture);
        return string.Join("; ", _groups.Select(group =>
        {
            var parts = _seconds.Where(kv => kv.Key.Group == group && kv.Key.Part.Length > 0).OrderByDescending(kv => kv.Value).ToList();
            string detail = parts.Count == 0 ? "" : " (" + string.Join(", ", parts.Select(kv => $"{kv.Key.Part} {S(kv.Value)}")) + ")";
            return $"{group} {S(Seconds(group))} s{detail}";
        }));
    }
}
