using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VipProxy.Host.Operations;

/// <summary>
/// The state file (<c>state_file</c>, default /var/lib/vipproxy/state.json): the <see cref="OperatorState"/> as JSON.
/// Written atomically: a temporary file in the same directory, flushed to disk, then renamed over the old one, so a
/// crash or a full disk leaves either the old state or the new one, never half a file.
/// </summary>
public static class OperatorStateFile
{
    /// <summary>Reads the state; a missing file is the empty state. Throws <see cref="IOException"/> or
    /// <see cref="JsonException"/> for a file that cannot be read or parsed (the caller logs and starts empty).</summary>
    public static OperatorState Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            return OperatorState.Empty;
        }

        string json = File.ReadAllText(path, Encoding.UTF8);
        OperatorState? state = JsonSerializer.Deserialize(json, OperatorStateJsonContext.Default.OperatorState);
        return state is null
            ? OperatorState.Empty
            : new OperatorState(state.Servers.IsDefault ? [] : state.Servers, state.Instances.IsDefault ? [] : state.Instances);
    }

    /// <summary>Writes the state atomically (temp + fsync + rename), creating the directory (0755) if needed.</summary>
    public static void Save(string path, OperatorState state)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(state);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(state, OperatorStateJsonContext.Default.OperatorState);
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            }))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}

/// <summary>Source-generated JSON for the state file (Native AOT has no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(OperatorState))]
public sealed partial class OperatorStateJsonContext : JsonSerializerContext;
