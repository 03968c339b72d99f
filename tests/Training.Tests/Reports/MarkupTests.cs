using Orleans.MoE.Training.Reports;

namespace Orleans.MoE.Training.Tests.Reports;

public class MarkupTests
{
    [Theory]
    [InlineData(21150, "21,150")]
    [InlineData(230.32, "230.3")]
    [InlineData(4.954, "4.954")]
    [InlineData(57.55, "57.55")]
    [InlineData(0.01234, "0.0123")]
    [InlineData(0.00001, "1e-5")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(0, "0")]
    [InlineData(double.NaN, "n/a")]
    public void NumbersHaveAboutFourSignificantDigits(double value, string expected) => Assert.Equal(expected, Markup.Number(value));

    [Fact]
    public void NumbersIgnoreTheCurrentCulture()
    {
        var saved = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("1,234", Markup.Number(1234));
            Assert.Equal("0.5", Markup.Number(0.5));
            Assert.Equal("12.5%", Markup.Number(0.125, "0.0%"));
            Assert.Equal("3.14", Markup.Coordinate(3.14159));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = saved;
        }
    }

    [Fact]
    public void EscapeCoversMarkupCharactersAndDropsCharactersXmlForbids()
    {
        Assert.Equal("&lt;a href=&quot;x&quot;&gt;&amp;&#39;", Markup.Escape("<a href=\"x\">&'"));
        Assert.Equal("a\uFFFDb\tc\n", Markup.Escape("a\u0001b\tc\n"));
        Assert.Equal("plain", Markup.Escape("plain"));
    }
}
