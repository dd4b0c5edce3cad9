/* rr-dicom-sr-codes.h: the concepts our TID 1500 reports use beyond the
 * ones dcmtk names, shared by the writer and the reader (C++ only). DICOM
 * has codes for the tracking identifiers, finding sites, axes and most
 * responses; the rest is in our private scheme 99RR, as PS3.16 allows. */
#pragma once

#include "rr-dicom-sr.h"

#include <dcmtk/dcmsr/dsrcodvl.h>

/* Finding (121071, DCM): the lesion's category. */
#define RR_CODE_TARGET      DSRCodedEntryValue ("TARGET", RR_SR_SCHEME, "Target lesion")
#define RR_CODE_NON_TARGET  DSRCodedEntryValue ("NONTARGET", RR_SR_SCHEME, "Non-target lesion")
#define RR_CODE_NEW         DSRCodedEntryValue ("NEW", RR_SR_SCHEME, "New lesion")

/* Qualitative evaluations of one lesion (TID 1501). */
#define RR_CODE_MEAS_STATUS DSRCodedEntryValue ("MEASSTATUS", RR_SR_SCHEME, "Measurement status")
#define RR_CODE_LOCATION    DSRCodedEntryValue ("LOCATION", RR_SR_SCHEME, "Lesion location")
#define RR_CODE_ORGAN       DSRCodedEntryValue ("ORGAN", RR_SR_SCHEME, "Organ")
#define RR_CODE_NT_STATUS   DSRCodedEntryValue ("NTSTATUS", RR_SR_SCHEME, "Non-target lesion status")
#define RR_CODE_EQUIVOCAL   DSRCodedEntryValue ("EQUIVOCAL", RR_SR_SCHEME, "Equivocal")
#define RR_CODE_FIRST_SEEN  DSRCodedEntryValue ("FIRSTSEEN", RR_SR_SCHEME, "First seen at time point")
#define RR_CODE_INCREASED   DSRCodedEntryValue ("INCREASED", RR_SR_SCHEME, "Increased since last assessment")
#define RR_CODE_NODAL       DSRCodedEntryValue ("NODAL", RR_SR_SCHEME, "Lymph node")

/* Non-target status values. */
#define RR_CODE_PRESENT     DSRCodedEntryValue ("52101004", "SCT", "Present")
#define RR_CODE_ABSENT      DSRCodedEntryValue ("2667000", "SCT", "Absent")
#define RR_CODE_UNEQUIVOCAL DSRCodedEntryValue ("UNEQUIVOCALPD", RR_SR_SCHEME, "Unequivocal progression")
#define RR_CODE_NOT_EVALUABLE DSRCodedEntryValue ("NE", RR_SR_SCHEME, "Not evaluable")

/* Qualitative evaluations of the whole report (TID 1500 row 13/14). */
#define RR_CODE_STUDY_DAY   DSRCodedEntryValue ("STUDYDAY", RR_SR_SCHEME, "Study day")
#define RR_CODE_OPTIONS     DSRCodedEntryValue ("OPTIONS", RR_SR_SCHEME, "Criteria options")
#define RR_CODE_NT_RESPONSE DSRCodedEntryValue ("NTRESPONSE", RR_SR_SCHEME, "Non-target response")
#define RR_CODE_NEW_LESIONS DSRCodedEntryValue ("NEWLESIONS", RR_SR_SCHEME, "New lesions")
#define RR_CODE_SUM         DSRCodedEntryValue ("SUMDIAM", RR_SR_SCHEME, "Sum of diameters")
#define RR_CODE_CHANGE_BL   DSRCodedEntryValue ("CHANGEBL", RR_SR_SCHEME, "Change from baseline")
#define RR_CODE_CHANGE_NADIR DSRCodedEntryValue ("CHANGENADIR", RR_SR_SCHEME, "Change from nadir")
#define RR_CODE_IRECIST     DSRCodedEntryValue ("IRECIST", RR_SR_SCHEME, "iRECIST")
