using System.Text.Json;
using System.Text.Json.Serialization;

namespace LatentLab.IO;

/// <summary>The one JSON style of every file LatentLab writes: snake_case names, enums as strings, indented.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static void WriteFile<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value) + "\n");

    public static T ReadFile<T>(string path)
    {
        if (!File.Exists(path)) throw new LatentLabException($"{path}: file not found");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options)
                   ?? throw new CorruptFileException(path, "empty JSON document");
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(path, $"invalid JSON ({e.Message})");
        }
    }
}
