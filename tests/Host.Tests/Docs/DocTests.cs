using System.Text;

namespace TaskIsolation.Host.Tests.Docs;

/// <summary>The doc tests change the process's current directory, so nothing else runs beside them.</summary>
[CollectionDefinition(nameof(DocTestCollection), DisableParallelization = true)]
public sealed class DocTestCollection;

/// <summary>
/// README.md and every docs/*.md are true of the program: each console block's commands print what it shows (wall
/// times and rates masked), each C# example compiles and runs, each listed taskisol command parses. With
/// <c>TASKISOL_UPDATE_DOCS=1</c> the documents' outputs are rewritten from the program instead (prose untouched);
/// review the diff, and the prose that describes the output, before committing.
/// </summary>
[Collection(nameof(DocTestCollection))]
public sealed class DocTests
{
    /// <summary>Whether this run rewrites the documents' outputs instead of comparing with them.</summary>
    private static bool Update => Environment.GetEnvironmentVariable("TASKISOL_UPDATE_DOCS") == "1";

    private static string Root => GoldenOutputTests.RepoRoot;

    /// <summary>README.md and docs/*.md, as paths relative to the repository.</summary>
    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string> { "README.md" };
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            data.Add("docs/" + Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void The_document_is_true_of_the_program(string document)
    {
        var path = Path.Combine(Root, document);
        var text = File.ReadAllText(path);
        var outcome = new DocChecker(Root).Check(document, text);
        if (Update && outcome.UpdatedText != text)
        {
            File.WriteAllText(path, outcome.UpdatedText, new UTF8Encoding(false));
            var recheck = new DocChecker(Root).Check(document, outcome.UpdatedText);
            Assert.True(recheck.Problems.Count == 0, $"after the update, still:\n{string.Join("\n", recheck.Problems)}");
            return;
        }

        Assert.True(
            outcome.Problems.Count == 0,
            $"{document} is not true of the program (TASKISOL_UPDATE_DOCS=1 rewrites the outputs):\n{string.Join("\n", outcome.Problems)}");
    }
}
