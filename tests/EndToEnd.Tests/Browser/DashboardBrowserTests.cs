using System.Text.RegularExpressions;
using FraudActors.Testkit;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FraudActors.EndToEnd.Tests.Browser;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright against
/// a real <c>fraud run</c> reading a live <c>fraud produce</c> stream from the dev broker. The
/// page must show the running job, fill its checkpoints table, show an alert of a bursting
/// user, show the rules and change one (a refusal naming the key, then a new version), and
/// cancel the job with the admin token; the node needs a read token, which the page asks for.
/// </summary>
public sealed partial class DashboardBrowserTests
{
    private const string AdminToken = "browser-test-token";
    private const string ReadToken = "browser-read-token";

    /// <summary>Debian's package; <c>scripts/test.sh</c> installs it. No Playwright browser is downloaded.</summary>
    private static readonly string Chromium = Environment.GetEnvironmentVariable("FRAUD_TEST_CHROMIUM") ?? "/usr/bin/chromium";

    // Generous bounds for a slow machine: each is a deadline for something to appear, never a measurement.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Dashboard_shows_the_running_job_its_checkpoints_and_alerts_and_cancels_it_with_the_token()
    {
        Assert.True(File.Exists(Chromium), $"Chromium is not at {Chromium}: scripts/test.sh installs Debian's package (apt-get install chromium), or set FRAUD_TEST_CHROMIUM");

        await using var broker = FraudProcess.Start("broker");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];

        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_GROUP"] = "browser-test" },
            "run", "--bootstrap", bootstrap, "--store", "memory", "--checkpoint-interval", "1s", "--http", "127.0.0.1:0", "--admin-token", AdminToken, "--read-token", ReadToken);

        // A live stream: event time follows the wall clock at this rate, and u901 bursts 5 s
        // into every 30 s cycle, so the first alert comes a few seconds in. Endless; killed at the end.
        await using var producer = FraudProcess.Start(
            "produce", "--bootstrap", bootstrap, "--seed", "7", "--rate", "50", "--users", "2000");

        var url = await Eventually.ValueAsync(
            () => Task.FromResult(HttpUrl(service)),
            u => u is not null || service.HasExited,
            Timeout);
        Assert.True(url is not null, $"fraud run logged no http:// address.\nstderr:\n{service.StandardErrorTail()}");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // CI runs as root, where Chromium refuses its sandbox; containers often have a small /dev/shm.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync();
        var pageErrors = new List<string>();
        page.PageError += (_, error) => pageErrors.Add(error);
        SetDefaultExpectTimeout((float)Timeout.TotalMilliseconds);

        try
        {
            await page.GotoAsync(url!);

            await Expect(page).ToHaveTitleAsync("FraudActors");

            // The node reads only with its read token: the page asks for it, then shows the job.
            await Expect(page.Locator("#read")).ToBeVisibleAsync();
            await Expect(page.Locator("#read-message")).ToContainTextAsync("read token");
            await page.Locator("#read-token").FillAsync(ReadToken);
            await page.Locator("#read-save").ClickAsync();
            await Expect(page.Locator("#read")).ToBeHiddenAsync();
            await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-status", "connected");
            await Expect(page.Locator("#job-state")).ToHaveTextAsync("running");
            await Expect(page.Locator("#job-id")).Not.ToHaveTextAsync("–");

            // The checkpoints table fills, and its counts say the same.
            await Expect(page.Locator("#checkpoints tbody tr").First).ToBeVisibleAsync();
            await Expect(page.Locator("#checkpoints tbody tr[data-status=completed]").First).ToBeVisibleAsync();
            await Expect(page.Locator("#cp-completed")).ToHaveTextAsync(PositiveNumber());

            // Records flow and the partitions are listed.
            await Expect(page.Locator("#records-in")).ToHaveTextAsync(PositiveNumber());
            await Expect(page.Locator("#partitions tbody tr").First).ToBeVisibleAsync();

            // An alert of a bursting user appears.
            var alert = page.Locator("#alerts tbody tr").First;
            await Expect(alert).ToBeVisibleAsync();
            await Expect(alert).ToHaveAttributeAsync("data-user", BurstingUser());

            // The rules, desired and in force per partition; a change the node refuses names the
            // key at fault, a valid one is published and read back as the rule's new version.
            await Expect(page.Locator("#rules-desired tbody tr[data-rule=sliding-velocity]")).ToBeVisibleAsync();
            await Expect(page.Locator("#rules-partitions tbody tr").First).ToBeVisibleAsync();
            await page.Locator("#rule-name").SelectOptionAsync("timer-velocity");
            await page.Locator("#rule-enabled").CheckAsync();
            await page.Locator("#rule-params").FillAsync("threshold=0");
            await page.Locator("#rule-token").FillAsync(AdminToken);
            await page.Locator("#rule-apply").ClickAsync();
            await Expect(page.Locator("#rule-message")).ToContainTextAsync("400 Bad Request: rule timer-velocity: params.threshold:");
            await page.Locator("#rule-params").FillAsync("threshold=3\nwindow=30s");
            await page.Locator("#rule-apply").ClickAsync();
            await Expect(page.Locator("#rule-message")).ToContainTextAsync(new Regex("^timer-velocity: version [1-9][0-9]* published"));
            var timerVelocity = page.Locator("#rules-desired tbody tr[data-rule=timer-velocity] td");
            await Expect(timerVelocity.Nth(1)).ToHaveTextAsync("on");
            await Expect(timerVelocity.Nth(3)).ToHaveTextAsync("threshold=3 window=30s");

            // One admin token for the tab: clearing it in Job control clears it in Rules too.
            await page.Locator("#token").FillAsync(string.Empty);
            await Expect(page.Locator("#rule-token")).ToHaveValueAsync(string.Empty);

            // Without the token the page says so and the job keeps running.
            await page.Locator("#cancel").ClickAsync();
            await Expect(page.Locator("#admin-message")).ToContainTextAsync("admin token");
            await page.Locator("#token").FillAsync("not-the-token");
            await page.Locator("#cancel").ClickAsync();
            await Expect(page.Locator("#admin-message")).ToContainTextAsync("401");
            Assert.False(service.HasExited);

            // With the token, Cancel stops the job and the process ends cleanly.
            await page.Locator("#token").FillAsync(AdminToken);
            await page.Locator("#cancel").ClickAsync();
            await Expect(page.Locator("#admin-message")).ToContainTextAsync("Cancel accepted");
            await Expect(page.Locator("#job-state")).ToHaveTextAsync(new Regex("^(stopping|cancelled)$"));
            Assert.Equal(0, await service.WaitForExitAsync(Timeout));

            // The node is gone: the page says so and keeps what it last showed.
            await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-status", "disconnected");
            await Expect(page.Locator("#alerts tbody tr").First).ToBeVisibleAsync();
            Assert.Empty(pageErrors);
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException or Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException(
                $"{e.Message}\npage errors: {string.Join("; ", pageErrors)}\nadmin message: {await TextOf(page, "#admin-message")}\nrule message: {await TextOf(page, "#rule-message")}\nconnection: {await TextOf(page, "#connection")}\nservice stderr:\n{service.StandardErrorTail()}",
                e);
        }
    }

    /// <summary>The address the node logged it serves on, from either of its output streams.</summary>
    private static string? HttpUrl(FraudProcess process) =>
        process.StandardOutput.Append(process.StandardError)
            .Select(l => UrlPattern().Match(l))
            .FirstOrDefault(m => m.Success)?.Value;

    private static async Task<string> TextOf(IPage page, string selector)
    {
        try
        {
            return await page.Locator(selector).TextContentAsync(new LocatorTextContentOptions { Timeout = 1000 }) ?? string.Empty;
        }
        catch (PlaywrightException)
        {
            return "(not readable)";
        }
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:[1-9][0-9]*/?")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"^[1-9][0-9,]*$")]
    private static partial Regex PositiveNumber();

    [GeneratedRegex("^u90[12]$")]
    private static partial Regex BurstingUser();
}
