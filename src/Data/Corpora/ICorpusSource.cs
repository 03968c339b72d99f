namespace Orleans.MoE.Data.Corpora;

/// <summary>Something that yields the documents of one or more domains.</summary>
public interface ICorpusSource
{
    /// <summary>A short name for messages and the manifest.</summary>
    string Name { get; }

    IEnumerable<CorpusDocument> ReadDocuments();
}
