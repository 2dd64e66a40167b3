using System.Globalization;
using System.Text.Json;
using FraudActors.Messages.Rules;
using FraudActors.Messages.Serialization;

namespace FraudActors.Engine.Rules;

/// <summary>A record of the <c>rules</c> topic (or a <c>PUT /rules/{name}</c>) that changes nothing: <see cref="Key"/> names what is wrong.</summary>
public sealed class RuleRecordException(string key, string message) : Exception(message)
{
    /// <summary>The part at fault: <c>key</c>, <c>value</c>, <c>rule</c>, <c>enabled</c>, <c>params</c> or <c>params.&lt;name&gt;</c>.</summary>
    public string Key { get; } = key;
}

/// <summary>
/// The records of the compacted <c>rules</c> topic (docs/design.md, "Dynamic rules"): key = rule
/// name, value <c>{"rule":"sliding-velocity","enabled":true,"params":{"threshold":3,"window":"60s"}}</c>,
/// checked as the configuration's <c>fraud.rules.&lt;name&gt;</c> is. What a record leaves out
/// keeps its configured value; a null value returns the rule to its configuration.
/// </summary>
public static class RuleRecord
{
    /// <summary>
    /// The settings the record at <paramref name="version"/> - 1 gives rule <paramref name="key"/>,
    /// on top of <paramref name="configured"/>; <paramref name="value"/> null is a tombstone.
    /// </summary>
    /// <exception cref="RuleRecordException">The record is not valid; its <see cref="RuleRecordException.Key"/> says where.</exception>
    public static RuleSpec Parse(string? key, byte[]? value, long version, RuleSet configured)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw new RuleRecordException("key", "a record of the rules topic needs the rule's name as its key");
        }

        if (configured.Find(key) is not { } base_)
        {
            throw new RuleRecordException("key", $"no rule is called '{key}'; known: {string.Join(", ", configured.Specs.Select(s => s.Name))}");
        }

        if (value is null)
        {
            return base_ with { Version = version };
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(value);
        }
        catch (JsonException e)
        {
            throw new RuleRecordException("value", $"rule {key}: the value is not JSON: {e.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RuleRecordException("value", $"rule {key}: the value is a JSON {root.ValueKind}, not an object with rule, enabled and params");
            }

            foreach (var field in root.EnumerateObject())
            {
                if (field.Name is not ("rule" or "enabled" or "params"))
                {
                    throw new RuleRecordException(field.Name, $"rule {key}: '{field.Name}' is not a field of a rule record (rule, enabled, params)");
                }
            }

            if (root.TryGetProperty("rule", out var rule) && rule.ValueKind != JsonValueKind.Null && (rule.ValueKind != JsonValueKind.String || rule.GetString() != key))
            {
                throw new RuleRecordException("rule", $"rule {key}: field 'rule' is {rule.GetRawText()}, not the record's key \"{key}\"");
            }

            bool? enabled = null;
            if (root.TryGetProperty("enabled", out var on) && on.ValueKind != JsonValueKind.Null)
            {
                enabled = on.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new RuleRecordException("enabled", $"rule {key}: field 'enabled' is {on.GetRawText()}, not true or false"),
                };
            }

            var given = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("params", out var parameters) && parameters.ValueKind != JsonValueKind.Null)
            {
                if (parameters.ValueKind != JsonValueKind.Object)
                {
                    throw new RuleRecordException("params", $"rule {key}: field 'params' is {parameters.GetRawText()}, not an object");
                }

                foreach (var p in parameters.EnumerateObject())
                {
                    given[p.Name] = p.Value.ValueKind switch
                    {
                        JsonValueKind.String => p.Value.GetString()!,
                        JsonValueKind.Number => Number(p.Value),
                        JsonValueKind.True => "on",
                        JsonValueKind.False => "off",
                        _ => throw new RuleRecordException("params." + p.Name, $"rule {key}: params.{p.Name} is {p.Value.GetRawText()}, not a number, text or true/false"),
                    };
                }
            }

            return Build(key, enabled, given, version, base_);
        }
    }

    /// <summary>
    /// The spec of rule <paramref name="name"/> with <paramref name="given"/> over
    /// <paramref name="base_"/>'s settings, checked by building the rule; a key it does not
    /// read is refused.
    /// </summary>
    private static RuleSpec Build(string name, bool? enabled, IReadOnlyDictionary<string, string> given, long version, RuleSpec base_)
    {
        var config = new RuleConfig(name, k => given.TryGetValue(k, out var v) ? v : base_.Param(k), k => $"rule {name}: params.{k}");
        RuleSpec spec;
        try
        {
            spec = RuleCatalog.Spec(config, base_.Enabled, version);
        }
        catch (Akka.Configuration.ConfigurationException e)
        {
            var param = given.Keys.FirstOrDefault(k => e.Message.StartsWith($"rule {name}: params.{k}:", StringComparison.Ordinal));
            throw new RuleRecordException(param is null ? "params" : "params." + param, e.Message);
        }

        var read = spec.Params.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        if (given.Keys.FirstOrDefault(k => !read.Contains(k)) is { } unknown)
        {
            throw new RuleRecordException("params." + unknown, $"rule {name}: params.{unknown} is not a setting of this rule; it has {string.Join(", ", read.Order(StringComparer.Ordinal))}");
        }

        return spec with { Enabled = enabled ?? base_.Enabled };
    }

    /// <summary>A JSON number as a setting's text: a whole number without its fraction (3.0 is 3), others as written.</summary>
    private static string Number(JsonElement value) =>
        value.TryGetDecimal(out var d) && d == decimal.Truncate(d) && d is >= long.MinValue and <= long.MaxValue
            ? ((long)d).ToString(CultureInfo.InvariantCulture)
            : value.GetRawText();

    /// <summary>The value of a record that sets <paramref name="spec"/>'s settings (its version is the topic's to give).</summary>
    public static byte[] Serialize(RuleSpec spec) => WireJson.Write(w =>
    {
        w.WriteString("rule", spec.Name);
        w.WriteBoolean("enabled", spec.Enabled);
        w.WriteStartObject("params");
        foreach (var (k, v) in spec.Params)
        {
            if (decimal.TryParse(v, NumberStyles.Number, CultureInfo.InvariantCulture, out var number) && number.ToString(CultureInfo.InvariantCulture) == v)
            {
                w.WriteNumber(k, number);
            }
            else
            {
                w.WriteString(k, v);
            }
        }

        w.WriteEndObject();
    });
}
