using FraudActors.Messages.Commands;

namespace FraudActors.Engine.Time;

/// <summary>
/// Stamps a record with its partition's clock, as the pipeline does at the stream's turn: in
/// event time the watermark before and after it and whether it is late; in processing time the
/// wall clock for all three. Pure, so tests drive users exactly as the pipeline does.
/// </summary>
public static class RecordClock
{
    public static ApplyTransaction Stamp(ApplyTransaction command, ref PartitionWatermark watermark, long nowMs, TimeSettings settings)
    {
        if (settings.Characteristic == TimeCharacteristic.ProcessingTime)
        {
            return command with { NowMs = nowMs, TimeMs = nowMs, WatermarkBeforeMs = nowMs, WatermarkMs = nowMs };
        }

        var eventTime = command.Transaction.EventTimeMs;
        var before = watermark.Current(nowMs, settings.Watermarks);
        var late = watermark.IsLate(eventTimeMs: eventTime, nowMs, settings.Watermarks);
        watermark = watermark.Observe(eventTime, nowMs, settings.Watermarks);
        return command with { NowMs = nowMs, WatermarkBeforeMs = before, WatermarkMs = watermark.WatermarkMs, Late = late };
    }
}
