namespace FraudActors.Service.Cli;

/// <summary>docs/design.md, section 6: 0 success or clean stop, 1 failure at run time, 2 bad arguments or configuration.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadArguments = 2;
}
