using System.Globalization;
using Akka.Configuration;
using FraudActors.Engine.Configuration;
using FraudActors.Engine.Time;
using FraudActors.Messages.Rules;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Rules;

/// <summary>What a rule sees of one transaction: the record and its time (event time, or the processing time in that mode).</summary>
public readonly record struct RuleInput(Transaction Transaction, long TimeMs);

/// <summary>
/// A fraud rule as the user actor runs it: a pure function over the rule's own keyed state and
/// the user's timers. Rules are found by <see cref="RuleCatalog"/> from their
/// <see cref="FraudRuleAttribute"/>, so adding a rule is one file: a class deriving from
/// <see cref="FraudRule{TState}"/> with a constructor taking <see cref="RuleConfig"/>.
/// </summary>
public interface IFraudRule
{
    string Name { get; }

    /// <summary>The look-back the rule's alerts report as <c>window_ms</c>.</summary>
    long WindowMs { get; }

    /// <summary>Applies a transaction to the rule's state (null: empty); the state is boxed so a user can hold any rule's.</summary>
    object? Apply(object? state, in RuleInput input, ref TimerSet timers, out RuleVerdict verdict);

    /// <summary>One of this rule's timers fired (its owner is the rule's name).</summary>
    object? OnTimer(object? state, UserTimer timer, ref TimerSet timers);

    void Write(BinaryWriter writer, object state);

    object? Read(BinaryReader reader);
}

/// <summary>
/// The base of every rule: typed state in, typed state out. <typeparamref name="TState"/> is
/// built from the keyed-state kinds (<see cref="State.ValueState{T}"/>, list, map, reducing) and
/// its default value means "nothing kept", which is not stored.
/// </summary>
public abstract class FraudRule<TState> : IFraudRule
    where TState : struct
{
    public abstract string Name { get; }

    public abstract long WindowMs { get; }

    public abstract (TState State, RuleVerdict Verdict) Apply(TState state, in RuleInput input, ref TimerSet timers);

    public virtual TState OnTimer(TState state, UserTimer timer, ref TimerSet timers) => state;

    public abstract void Write(BinaryWriter writer, TState state);

    public abstract TState Read(BinaryReader reader);

    object? IFraudRule.Apply(object? state, in RuleInput input, ref TimerSet timers, out RuleVerdict verdict)
    {
        (var next, verdict) = Apply(state is TState typed ? typed : default, input, ref timers);
        return Box(next);
    }

    object? IFraudRule.OnTimer(object? state, UserTimer timer, ref TimerSet timers) =>
        Box(OnTimer(state is TState typed ? typed : default, timer, ref timers));

    void IFraudRule.Write(BinaryWriter writer, object state) => Write(writer, (TState)state);

    object? IFraudRule.Read(BinaryReader reader) => Box(Read(reader));

    private static object? Box(TState state) => EqualityComparer<TState>.Default.Equals(state, default) ? null : state;
}

/// <summary>Names a rule and says whether it runs when the configuration does not mention it.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class FraudRuleAttribute(string name) : Attribute
{
    public string Name { get; } = name;

    public bool EnabledByDefault { get; init; }
}

/// <summary>
/// A rule's settings: the keys under <c>fraud.rules.&lt;name&gt;</c>, or the <c>params</c> of a
/// record of the <c>rules</c> topic, each with the rule's own default when absent. A malformed
/// value fails naming its key (<paramref name="keyName"/> says how). Every key the rule reads is
/// noted with the value it took (<see cref="Read"/>), so the settings in force can be shown and
/// compared, and a key the rule does not read can be refused.
/// </summary>
public sealed class RuleConfig(string ruleName, Func<string, string?> lookup, Func<string, string>? keyName = null)
{
    private readonly List<KeyValuePair<string, string>> _read = [];

    public static RuleConfig Defaults(string ruleName) => new(ruleName, _ => null);

    public static RuleConfig FromHocon(string ruleName, Config config) =>
        new(ruleName, key => config.HasPath($"fraud.rules.{ruleName}.{key}") ? config.GetString($"fraud.rules.{ruleName}.{key}") : null);

    public string RuleName => ruleName;

    /// <summary>The keys read so far (enabled aside), each with the value it took as text, in key order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Read =>
        [.. _read.Where(p => p.Key != "enabled").DistinctBy(p => p.Key).OrderBy(p => p.Key, StringComparer.Ordinal)];

    public bool Boolean(string key, bool fallback) => Parse(key, fallback, text => text.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" => (true, true),
        "off" or "false" or "no" => (true, false),
        _ => (false, false),
    }, "is not on or off", b => b ? "on" : "off");

    public int PositiveInt(string key, int fallback) =>
        Parse(key, fallback, text => (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0, n), "is not a positive whole number", n => n.ToString(CultureInfo.InvariantCulture));

    public decimal Decimal(string key, decimal fallback) =>
        Parse(key, fallback, text => (decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var d), d), "is not a number", d => (d / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture));

    public TimeSpan Duration(string key, TimeSpan fallback) =>
        Parse(key, fallback, text => (Durations.TryParse(text, out var d) && d > TimeSpan.Zero, d), "is not a positive duration such as 60s or 5m", Durations.Format);

    private T Parse<T>(string key, T fallback, Func<string, (bool Ok, T Value)> parse, string what, Func<T, string> format)
    {
        if (lookup(key) is not { } text)
        {
            _read.Add(new(key, format(fallback)));
            return fallback;
        }

        var (ok, value) = parse(text.Trim());
        if (!ok)
        {
            var name = keyName?.Invoke(key) ?? $"configuration key fraud.rules.{ruleName}.{key}";
            throw new ConfigurationException($"{name}: '{text}' {what}");
        }

        _read.Add(new(key, format(value)));
        return value;
    }
}

/// <summary>Every rule this build knows, found by their <see cref="FraudRuleAttribute"/>.</summary>
public static class RuleCatalog
{
    public static IReadOnlyList<(string Name, bool EnabledByDefault, Type Type)> Known { get; } =
        [.. typeof(IFraudRule).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsClass: true } && typeof(IFraudRule).IsAssignableFrom(t))
            .Select(t => (Attribute: t.GetCustomAttributes(typeof(FraudRuleAttribute), false).OfType<FraudRuleAttribute>().SingleOrDefault(), Type: t))
            .Where(r => r.Attribute is not null)
            .Select(r => (r.Attribute!.Name, r.Attribute.EnabledByDefault, r.Type))
            .OrderBy(r => r.Name, StringComparer.Ordinal)];

    /// <summary>
    /// The enabled rules, each built from its settings; <paramref name="settingsFor"/> gives a
    /// rule's keys. Every rule's settings are checked, also those of rules turned off, so a typo
    /// is reported at start and not when someone turns the rule on. The result knows the
    /// <see cref="RuleSet"/> it came from (every rule at version 0, the configuration's).
    /// </summary>
    public static RuleSettings Create(Func<string, RuleConfig> settingsFor) =>
        RuleSets.Settings(new RuleSet(Known.Select(r => Spec(settingsFor(r.Name), r.EnabledByDefault, version: 0))));

    /// <summary>
    /// The spec of a rule as <paramref name="config"/> sets it: the rule is built once to check
    /// every value, and each key it read is kept with the value it took.
    /// </summary>
    public static RuleSpec Spec(RuleConfig config, bool enabledByDefault, long version)
    {
        var enabled = config.Boolean("enabled", enabledByDefault);
        var type = Known.First(r => r.Name == config.RuleName).Type;
        _ = Instantiate(type, config);
        return new RuleSpec(config.RuleName, enabled, config.Read, version);
    }

    /// <summary>A rule with its defaults, for reading and writing its state whatever the settings in force.</summary>
    public static IFraudRule? Codec(string name) => Codecs.GetValueOrDefault(name);

    private static readonly Dictionary<string, IFraudRule> Codecs =
        Known.ToDictionary(r => r.Name, r => Instantiate(r.Type, RuleConfig.Defaults(r.Name)), StringComparer.Ordinal);

    public static IFraudRule Create(string name, RuleConfig? settings = null) =>
        Known.FirstOrDefault(r => r.Name == name) is { Type: not null } known
            ? Instantiate(known.Type, settings ?? RuleConfig.Defaults(name))
            : throw new ArgumentException($"no rule is called '{name}'; known: {string.Join(", ", Known.Select(r => r.Name))}", nameof(name));

    private static IFraudRule Instantiate(Type type, RuleConfig settings)
    {
        try
        {
            return (IFraudRule)Activator.CreateInstance(type, settings)!;
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
