using System.Runtime.InteropServices;

namespace FraudActors.Testkit;

/// <summary>
/// Binds the dev broker's mock-cluster calls to the very librdkafka file that Confluent.Kafka
/// loaded. On Debian the package's plain <c>librdkafka.so</c> needs <c>libsasl2.so.3</c>, which
/// is often missing, and Confluent.Kafka then falls back to the self-contained
/// <c>centos8-librdkafka.so</c>; two copies in one process would be two separate libraries, so
/// the file is read from the process's own memory map rather than guessed.
/// </summary>
public static class LibRdKafka
{
    private static readonly object Gate = new();
    private static string? _path;
    private static nint _handle;

    /// <summary>The loaded library's path; loads it (through Confluent.Kafka) on first call.</summary>
    public static string EnsureLoaded()
    {
        lock (Gate)
        {
            if (_path is not null)
            {
                return _path;
            }

            // Any call into the client makes Confluent.Kafka pick and load its native library.
            _ = Confluent.Kafka.Library.Version;
            var path = MappedLibrary() ?? throw new DllNotFoundException(
                "Confluent.Kafka loaded librdkafka, but the file it loaded could not be found in /proc/self/maps; the dev broker needs Linux");
            _handle = NativeLibrary.Load(path);
            _path = path;
            return path;
        }
    }

    /// <summary>The address of a function of the loaded library, for a function-pointer call.</summary>
    internal static nint Export(string name)
    {
        EnsureLoaded();
        return NativeLibrary.GetExport(_handle, name);
    }

    private static string? MappedLibrary()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
        {
            return null;
        }

        // Lines end with the mapped file's path: "... /path/runtimes/linux-x64/native/centos8-librdkafka.so".
        return File.ReadLines(maps)
            .Select(line => line.IndexOf('/', StringComparison.Ordinal) is var at and >= 0 ? line[at..] : null)
            .FirstOrDefault(path => path is not null && Path.GetFileName(path).Contains("librdkafka", StringComparison.Ordinal));
    }
}
