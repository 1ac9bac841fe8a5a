using System.Text;
using System.Text.Json;
using TaskIsolation.Exploration;

namespace TaskIsolation.Cluster;

/// <summary>
/// The coordinator's journal of finished batches: an append-only file of JSON lines, the first naming the campaign
/// (its <see cref="CampaignSpec"/>), then one line per finished batch with its result, each written and fsynced
/// before the batch counts as done. A coordinator that restarts with the same journal and campaign resumes with
/// those batches done. A crash can leave the last line torn (a prefix of it): opening cuts it off, since its batch
/// was never counted. Any other bad line means the file is not this program's journal, and opening fails.
/// </summary>
public sealed class CampaignJournal : IDisposable
{
    /// <summary>The format tag of the header line.</summary>
    public const string Format = "taskisol-cluster-journal/1";

    private readonly FileStream _file;

    private CampaignJournal(string path, FileStream file, IReadOnlyDictionary<long, CampaignResult> done, long tornBytes)
    {
        Path = path;
        _file = file;
        Done = done;
        TornBytes = tornBytes;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Batches the journal already held when opened, with their results.</summary>
    public IReadOnlyDictionary<long, CampaignResult> Done { get; }

    /// <summary>Bytes of a torn last line cut off when opening (0 when the file ended cleanly).</summary>
    public long TornBytes { get; }

    /// <summary>
    /// Opens (or creates) the journal of <paramref name="spec"/>'s campaign at <paramref name="path"/>.
    /// <see cref="FormatException"/> when the file belongs to another campaign or is not a journal.
    /// </summary>
    public static CampaignJournal Open(string path, CampaignSpec spec)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(spec);
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var file = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096, FileOptions.None);
        try
        {
            var done = new Dictionary<long, CampaignResult>();
            long torn = 0;
            if (file.Length == 0)
            {
                Write(file, new JournalHeader(Format, spec));
            }
            else
            {
                var good = Read(file, full, spec, done);
                torn = file.Length - good;
                if (torn > 0)
                {
                    file.SetLength(good);
                    file.Flush(flushToDisk: true);
                }
            }

            file.Seek(0, SeekOrigin.End);
            return new CampaignJournal(full, file, done, torn);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Appends batch <paramref name="batch"/>'s result and waits until it is on disk.</summary>
    public void Append(long batch, CampaignResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Write(_file, new JournalRecord(batch, ResultData.Of(result)));
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();

    private static void Write<T>(FileStream file, T line)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(line, ClusterMessageSerializer.Json);
        file.Write(bytes);
        file.WriteByte((byte)'\n');
        // fsync: a batch is done only once its line survives a power cut.
        file.Flush(flushToDisk: true);
    }

    /// <summary>Reads the header and the records into <paramref name="done"/>; returns the length of the good prefix.</summary>
    private static long Read(FileStream file, string path, CampaignSpec spec, Dictionary<long, CampaignResult> done)
    {
        var bytes = new byte[file.Length];
        file.Seek(0, SeekOrigin.Begin);
        file.ReadExactly(bytes);
        var lines = new List<(int Start, int Length, bool Terminated)>();
        for (var start = 0; start < bytes.Length;)
        {
            var nl = Array.IndexOf(bytes, (byte)'\n', start);
            lines.Add(nl < 0 ? (start, bytes.Length - start, false) : (start, nl - start, true));
            start = nl < 0 ? bytes.Length : nl + 1;
        }

        long good = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            var (start, length, terminated) = lines[i];
            var last = i == lines.Count - 1;
            var text = Encoding.UTF8.GetString(bytes, start, length);
            try
            {
                if (!terminated)
                {
                    throw new FormatException("no end of line");
                }

                if (i == 0)
                {
                    CheckHeader(JsonSerializer.Deserialize<JournalHeader>(text, ClusterMessageSerializer.Json), path, spec);
                }
                else
                {
                    var record = JsonSerializer.Deserialize<JournalRecord>(text, ClusterMessageSerializer.Json) ?? throw new FormatException("empty record");
                    Accept(record, spec, done);
                }
            }
            catch (Exception ex) when ((ex is JsonException || (ex is FormatException && ex is not JournalMismatchException)) && last && i > 0)
            {
                // A crash while appending: the batch of this line was never counted, so it runs again.
                return good;
            }
            catch (Exception ex) when (ex is JsonException || (ex is FormatException && ex is not JournalMismatchException))
            {
                throw new FormatException($"{path}: line {i + 1}: not a campaign journal line: {ex.Message}", ex);
            }

            good = start + length + 1;
        }

        return good;
    }

    private static void CheckHeader(JournalHeader? header, string path, CampaignSpec spec)
    {
        if (header is null || header.Format != Format)
        {
            throw new FormatException($"not a campaign journal (format '{header?.Format}', expected '{Format}')");
        }

        if (header.Campaign != spec)
        {
            var had = header.Campaign;
            throw new JournalMismatchException(
                $"{path} is the journal of another campaign ({had.TargetName} {had.TargetHash}, seed {had.Seed}, {had.Iterations} schedules, " +
                $"strategy {had.Strategy}, batch size {had.BatchSize}, model {had.ModelVersion}); this one is {spec.TargetName} {spec.TargetHash}, " +
                $"seed {spec.Seed}, {spec.Iterations} schedules, strategy {spec.Strategy}, batch size {spec.BatchSize}: use another --journal file");
        }
    }

    private static void Accept(JournalRecord record, CampaignSpec spec, Dictionary<long, CampaignResult> done)
    {
        if (record.Batch < 0 || record.Batch >= spec.Batches)
        {
            throw new FormatException($"batch {record.Batch} is not one of the campaign's 0-{spec.Batches - 1}");
        }

        var result = record.Result.ToResult();
        var (start, end) = spec.RangeOf(record.Batch);
        if (result.Ranges.Any(r => r.Start < start || r.End > end))
        {
            throw new FormatException($"batch {record.Batch} holds schedules outside {start}-{end}");
        }

        // A batch is appended once; should a line repeat (never written so), the first counts.
        done.TryAdd(record.Batch, result);
    }

    private sealed record JournalHeader(string Format, CampaignSpec Campaign);

    private sealed record JournalRecord(long Batch, ResultData Result);

    private sealed class JournalMismatchException(string message) : FormatException(message);
}
