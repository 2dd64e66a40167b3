using System.Text;
using FraudActors.Service.Producing;

namespace FraudActors.Service.Tests.Producing;

public sealed class TransactionFileTests
{
    [Fact]
    public void Lines_are_sent_as_they_are_keyed_by_user_id_when_there_is_one()
    {
        var path = Path.GetTempFileName();
        File.WriteAllLines(path,
        [
            """{"user_id": "u42", "amount": 99.95, "merchant": "gas_station", "ts": "2026-03-17T09:00:01.234Z"}""",
            "",
            "not json at all",
            """{"amount": 1}""",
            """{"user_id": 7}""",
            "   ",
            """["u1"]""",
        ]);

        var records = TransactionFile.Read(path).ToList();

        Assert.Equal(["u42", null, null, null, null], records.Select(r => r.Key));
        Assert.Equal("not json at all", Encoding.UTF8.GetString(records[1].Value));
        Assert.StartsWith("""{"user_id": "u42",""", Encoding.UTF8.GetString(records[0].Value), StringComparison.Ordinal);
    }
}
