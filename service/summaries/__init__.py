"""日检查、周通报、月总结: the day's, the week's and the month's summary of the campaign, as a
PDF in Chinese and an XLSX of the same tables, from the loop's figures, the ranking and the
city's own map."""
