using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;

namespace FraudActors.Testkit;

/// <summary>For the tests: a rule with a bug: it throws on one amount, and (when told) while its state is written.</summary>
public sealed class FragileRule : FraudRule<int>
{
    public const string RuleName = "fragile";
    public const decimal Poison = 13.13m;

    public volatile bool FailWrites;

    public override string Name => RuleName;

    public override long WindowMs => 0;

    public override (int State, RuleVerdict Verdict) Apply(int state, in RuleInput input, ref TimerSet timers) =>
        input.Transaction.Amount == Poison
            ? throw new InvalidOperationException("poison amount")
            : (state + 1, default);

    public override void Write(BinaryWriter writer, int state)
    {
        if (FailWrites)
        {
            throw new InvalidOperationException("state not writable");
        }

        writer.Write(state);
    }

    public override int Read(BinaryReader reader) => reader.ReadInt32();
}
