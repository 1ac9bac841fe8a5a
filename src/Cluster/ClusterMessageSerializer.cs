using System.Collections.Frozen;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace TaskIsolation.Cluster;

/// <summary>
/// The wire format of <see cref="IClusterMessage"/>s: UTF-8 JSON of the message record (camelCase, every field
/// required, unknown fields rejected) with the record's type name as the manifest. Bound in
/// <see cref="ClusterNodeConfig"/>; nodes of one cluster must run the same model version anyway, and a message this
/// code cannot read fails loudly instead of being half understood.
/// </summary>
public sealed class ClusterMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The serializer id in HOCON (<c>akka.actor.serialization-identifiers</c>); Akka reserves 0-100.</summary>
    public const int Id = 4_710;

    /// <summary>The JSON options of the wire format and the journal.</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    private static readonly FrozenDictionary<string, Type> Types = new[]
    {
        typeof(WorkerHello), typeof(CoordinatorHello), typeof(RunBatch), typeof(BatchDone), typeof(BatchRefused),
        typeof(BatchCrashed), typeof(CampaignFinished),
    }.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    /// <inheritdoc />
    public override int Identifier => Id;

    /// <summary>Serializes a message the way the cluster sends it (also used by tests and the journal).</summary>
    public static byte[] Serialize(IClusterMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Types.ContainsKey(message.GetType().Name)
            ? JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), Json)
            : throw new ArgumentException($"{message.GetType()} is not a cluster message", nameof(message));
    }

    /// <summary>Reads a message back; <see cref="FormatException"/> for an unknown manifest or bad JSON.</summary>
    public static IClusterMessage Deserialize(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
        {
            throw new FormatException($"unknown cluster message '{manifest}'");
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, type, Json) as IClusterMessage ?? throw new FormatException($"empty {manifest}");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"bad {manifest}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) =>
        obj is IClusterMessage m ? Serialize(m) : throw new ArgumentException($"{obj?.GetType()} is not a cluster message", nameof(obj));

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest) => Deserialize(bytes, manifest);

    /// <inheritdoc />
    public override string Manifest(object o) => o?.GetType().Name ?? throw new ArgumentNullException(nameof(o));
}
