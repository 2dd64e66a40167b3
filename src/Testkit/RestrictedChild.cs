using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FraudActors.Testkit;

/// <summary>
/// Wrappers (for <see cref="FraudProcess.StartWrapped"/>) that put a child process where storage
/// faults are real: where file modes bind it even when the tests run as root, or on a small
/// filesystem of its own that fills up. Each is probed once; null where this machine cannot.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static partial class RestrictedChild
{
    private static readonly Lazy<IReadOnlyList<string>?> FileModesWrapper = new(ProbeFileModes);
    private static readonly Lazy<IReadOnlyList<string>?> MountNamespace = new(ProbeMountNamespace);

    /// <summary>
    /// A wrapper under which the child cannot write what its file modes forbid. Root ignores file
    /// modes through its capabilities, not its user id: <c>setpriv</c> drops CAP_DAC_OVERRIDE
    /// (and its read twin) from the bounding set, so the root child, still root, meets the modes
    /// as any user would. Unlike switching to another user, the child can still read the build
    /// output and its temporary files; unlike a read-only mount, it needs no privilege to set up
    /// (a container's root may drop its own capabilities, not mount). Empty when not root.
    /// </summary>
    public static IReadOnlyList<string>? FileModesBind => FileModesWrapper.Value;

    /// <summary>
    /// A wrapper that runs the child in a mount namespace of its own with a tmpfs of
    /// <paramref name="size"/> over <paramref name="directory"/>: a filesystem that really fills
    /// up (ENOSPC, which SQLite reports as SQLITE_FULL), seen by no other process and gone with the
    /// child. Null where mounting is not allowed (a container without CAP_SYS_ADMIN or user namespaces).
    /// </summary>
    public static IReadOnlyList<string>? OnSmallTmpfs(string directory, string size) =>
        MountNamespace.Value is { } unshare
            ? [.. unshare, "sh", "-c", $"mount -t tmpfs -o size={size} tmpfs \"$0\" && exec \"$@\"", directory]
            : null;

    public static string WhyNoMountNamespace =>
        "this machine does not let a child mount a tmpfs in a namespace of its own (unshare -m as root, or unshare -r -m): the disk-full test needs one to fill a real filesystem";

    public static string WhyNoFileModes =>
        "running as root and setpriv (util-linux) cannot drop CAP_DAC_OVERRIDE here: a root child would ignore the file modes the permission tests set";

    public static bool IsRoot => geteuid() == 0;

    private static IReadOnlyList<string>? ProbeFileModes()
    {
        if (!IsRoot)
        {
            return [];
        }

        string[] wrapper = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"];
        var directory = Directory.CreateTempSubdirectory("fraud-modes-probe-");
        try
        {
            var file = Path.Combine(directory.FullName, "read-only");
            File.WriteAllText(file, string.Empty);
            File.SetUnixFileMode(file, UnixFileMode.UserRead);

            // Works only if the write is refused: then file modes bind the wrapped child.
            return Runs([.. wrapper, "true"]) && !Runs([.. wrapper, "sh", "-c", "echo x >> \"$0\"", file]) ? wrapper : null;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static IReadOnlyList<string>? ProbeMountNamespace()
    {
        var directory = Directory.CreateTempSubdirectory("fraud-mount-probe-");
        try
        {
            foreach (var unshare in new[] { new[] { "unshare", "-m" }, ["unshare", "-r", "-m"] })
            {
                if (Runs([.. unshare, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs \"$0\"", directory.FullName]))
                {
                    return unshare;
                }
            }

            return null;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static bool Runs(string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(info)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
