namespace FraudActors.Service.Configuration;

/// <summary>Bad configuration; the message names the option (or key) and what is wrong. Exit code 2.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
